/**
 * The `sendCallback` activity: POSTs a finished run's result to the caller's URL, signed with HMAC-SHA256.
 * Retryable failures (network, 408, 429, 5xx, DNS) throw, so the orchestrator's retry policy backs off and
 * tries again; a refusal that retrying cannot fix (blocked address, other 4xx, redirect) is returned.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Secret } from '../models/secret.js';
import { SendCallbackInput, type CallbackDelivery } from '../shared/requestTypes.js';
import { checkUrl, pinnedLookup, type VettedAddress } from '../net/ssrfGuard.js';
import { PUBLIC_ONLY, type UrlPolicy } from '../net/urlPolicy.js';

export const SIGNATURE_HEADER = 'x-durable-agents-signature';
export const TIMESTAMP_HEADER = 'x-durable-agents-timestamp';
export const RUN_ID_HEADER = 'x-durable-agents-run-id';
const DEFAULT_TIMEOUT_MS = 10_000;
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

export interface CallbackActivityDeps {
  /** `CALLBACK_SIGNING_SECRET`; callbacks are never sent unsigned. */
  readonly signingSecret: () => Secret | undefined;
  /** Default: public addresses only. Callback URLs are the caller's: `URL_POLICY_ALLOW_HOSTS` never applies. */
  readonly urlPolicy?: UrlPolicy;
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, as the signature header carries it. */
export function signCallback(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does: recompute the signature over the raw body and compare in constant time, and
 * refuse timestamps older than `toleranceSeconds` (default 5 min) so a captured request cannot be replayed.
 */
export function verifyCallbackSignature(
  secret: string,
  request: { timestamp: string | undefined; signature: string | undefined; body: string },
  { toleranceSeconds = 300, now = Date.now() }: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const { timestamp, signature, body } = request;
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signCallback(secret, timestamp, body));
  const actual = Buffer.from(signature);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Callback URLs may carry tokens in their path or query: errors and logs name the origin only. */
function originOf(url: URL): string {
  return url.origin;
}

function post(
  url: URL,
  hostname: string,
  addresses: readonly VettedAddress[],
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<number> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      {
        protocol: url.protocol,
        hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinnedLookup(addresses),
        agent: false,
        timeout: timeoutMs,
      },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
        response.once('error', reject);
      },
    );
    request.once('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.once('error', reject);
    request.end(body);
  });
}

export function createCallbackActivity(
  deps: CallbackActivityDeps,
): (raw: unknown) => Promise<CallbackDelivery> {
  const policy = deps.urlPolicy ?? PUBLIC_ONLY;
  const now = deps.now ?? Date.now;
  return async (raw) => {
    const parsed = SendCallbackInput.safeParse(raw);
    if (!parsed.success) {
      return {
        delivered: false,
        reason: `invalid sendCallback input: ${parsed.error.issues[0]?.message ?? ''}`,
      };
    }
    const { url: rawUrl, runId, body } = parsed.data;
    const secret = deps.signingSecret();
    if (!secret) {
      return {
        delivered: false,
        reason: 'CALLBACK_SIGNING_SECRET is not set; callbacks are never sent unsigned',
      };
    }
    const check = await checkUrl(rawUrl, policy, { origin: 'caller' });
    if (!check.ok) {
      if (check.code === 'unresolvable')
        throw new Error(`callback host cannot be resolved yet: ${check.reason}`);
      return { delivered: false, reason: `callback URL refused: ${check.reason}` };
    }
    const { url, hostname, addresses } = check.target;
    const text = JSON.stringify(body);
    const timestamp = String(Math.floor(now() / 1000));
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'durable-agents-callback/1',
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signCallback(secret.reveal(), timestamp, text),
      [RUN_ID_HEADER]: runId,
    };
    let status: number;
    try {
      status = await post(url, hostname, addresses, headers, text, deps.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const what = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
      throw new Error(`callback to ${originOf(url)} failed: ${what}`, { cause: error });
    }
    if (status >= 200 && status < 300) return { delivered: true, status };
    if (status >= 500 || RETRYABLE_STATUSES.has(status)) {
      throw new Error(`callback to ${originOf(url)} answered HTTP ${status}; retrying`);
    }
    const reason =
      status >= 300 && status < 400
        ? `callback to ${originOf(url)} answered a redirect (HTTP ${status}); redirects are not followed`
        : `callback to ${originOf(url)} answered HTTP ${status}; not retried`;
    return { delivered: false, status, reason };
  };
}
