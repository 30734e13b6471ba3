import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
/**
 * One guarded HTTP exchange: every hop checked by the SSRF guard under the injected URL policy, connected
 * only to the vetted addresses, the body streamed under a byte cap, all inside one time budget.
 */
import { parseRetryAfter } from '../models/errors.js';
import type { DomainLists } from './domains.js';
import { pinnedLookup, checkUrl, type BlockCode, type VettedTarget } from './ssrfGuard.js';
import type { UrlOrigin, UrlPolicy } from './urlPolicy.js';

export interface GuardedFetchOptions extends DomainLists {
  readonly policy: UrlPolicy;
  /** Who chose the URL (and so whether the policy's exemptions apply): see `UrlOrigin`. */
  readonly origin: UrlOrigin;
  /** Default GET. A request with a body should pass `maxRedirects: 0`: a redirect then ends it. */
  readonly method?: string;
  /** Sent as given, after the default user-agent, accept and accept-encoding headers. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** Largest (decompressed) body read; the download stops there and the result is marked truncated. */
  readonly maxBytes: number;
  /** Budget for the whole fetch: every DNS lookup, redirect hop and the body. */
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  readonly userAgent: string;
  /** Decides whether a response's content type is worth downloading (checked before the body is read). */
  readonly acceptsContentType: (mediaType: string) => boolean;
  /** Bytes of an error response's body kept in `http_error` (default 0: the body is not read). */
  readonly errorBodyBytes?: number;
  readonly signal?: AbortSignal;
}

export type FetchOutcome =
  | {
      readonly kind: 'ok';
      readonly finalUrl: string;
      readonly status: number;
      /** Lower-case media type without parameters, '' when the server sent none. */
      readonly mediaType: string;
      readonly charset: string | undefined;
      readonly body: Buffer;
      readonly truncated: boolean;
      readonly redirects: readonly string[];
    }
  | {
      readonly kind: 'blocked';
      readonly url: string;
      readonly code: BlockCode;
      readonly reason: string;
      readonly range?: string;
      readonly redirects: readonly string[];
    }
  | {
      readonly kind: 'http_error';
      readonly url: string;
      readonly status: number;
      readonly statusText: string;
      readonly retryAfterMs?: number;
      /** The start of the error body, when `errorBodyBytes` asked for it. */
      readonly body?: Buffer;
    }
  | { readonly kind: 'unsupported_type'; readonly url: string; readonly mediaType: string }
  | { readonly kind: 'too_many_redirects'; readonly redirects: readonly string[] }
  | { readonly kind: 'timeout'; readonly url: string }
  | { readonly kind: 'network_error'; readonly url: string; readonly message: string };

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

class FetchTimeout extends Error {
  constructor() {
    super('fetch_url time budget exhausted');
    this.name = new.target.name;
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  });
}

function request(
  target: VettedTarget,
  options: GuardedFetchOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const { url } = target;
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = transport.request({
      protocol: url.protocol,
      hostname: target.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: options.method ?? 'GET',
      headers: {
        'user-agent': options.userAgent,
        accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.9,*/*;q=0.1',
        'accept-encoding': 'gzip, deflate, br',
        ...options.headers,
        ...(options.body === undefined ? {} : { 'content-length': String(options.body.length) }),
      },
      lookup: pinnedLookup(target.addresses),
      // No pooled sockets: a kept-alive connection must never carry a request to a different vetted host.
      agent: false,
      signal,
    });
    outgoing.once('response', resolve);
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

export function parseContentType(header: string | undefined): { mediaType: string; charset?: string } {
  if (header === undefined) return { mediaType: '' };
  const [type = '', ...params] = header.split(';');
  const charset = params
    .map((param) => param.trim().match(/^charset\s*=\s*"?([^";]+)"?$/i)?.[1])
    .find((value) => value !== undefined);
  return { mediaType: type.trim().toLowerCase(), ...(charset ? { charset: charset.toLowerCase() } : {}) };
}

function decoded(response: IncomingMessage): Readable {
  const encoding = String(response.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return response.pipe(createGunzip());
  if (encoding === 'deflate') return response.pipe(createInflate());
  if (encoding === 'br') return response.pipe(createBrotliDecompress());
  return response;
}

/** Reads at most `maxBytes` of the decompressed body, so a compression bomb stops at the cap too. */
async function readCapped(
  response: IncomingMessage,
  maxBytes: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = decoded(response);
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      if (size + buffer.length > maxBytes) {
        chunks.push(buffer.subarray(0, maxBytes - size));
        return { body: Buffer.concat(chunks), truncated: true };
      }
      chunks.push(buffer);
      size += buffer.length;
    }
  } finally {
    stream.destroy();
    response.destroy();
  }
  return { body: Buffer.concat(chunks), truncated: false };
}

function networkMessage(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Requests a URL the way a careful crawler would: each hop is checked by the SSRF guard and connected to
 * only the addresses it vetted, redirects are followed by hand (never by the HTTP client), and the body
 * is streamed under a byte cap, all inside one time budget. Never throws for network outcomes.
 */
export async function guardedFetch(rawUrl: string, options: GuardedFetchOptions): Promise<FetchOutcome> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new FetchTimeout()), options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline.signal, options.signal]) : deadline.signal;
  const redirects: string[] = [];
  let current = rawUrl;
  try {
    for (let hop = 0; ; hop++) {
      try {
        const check = await raceAbort(
          checkUrl(current, options.policy, {
            origin: options.origin,
            allowDomains: options.allowDomains,
            blockDomains: options.blockDomains,
          }),
          signal,
        );
        if (!check.ok) {
          return {
            kind: 'blocked',
            url: current,
            code: check.code,
            reason: check.reason,
            ...(check.range === undefined ? {} : { range: check.range }),
            redirects,
          };
        }
        const response = await request(check.target, options, signal);
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (REDIRECT_STATUSES.has(status) && location !== undefined) {
          response.destroy();
          if (hop >= options.maxRedirects)
            return { kind: 'too_many_redirects', redirects: [...redirects, current] };
          redirects.push(current);
          current = new URL(location, check.target.url).href;
          continue;
        }
        const finalUrl = check.target.url.href;
        if (status < 200 || status >= 300) {
          const retryAfterMs = parseRetryAfter(
            response.headers as Record<string, string | undefined>,
            Date.now(),
          );
          const errorBody = options.errorBodyBytes
            ? (await readCapped(response, options.errorBodyBytes)).body
            : undefined;
          response.destroy();
          return {
            kind: 'http_error',
            url: finalUrl,
            status,
            statusText: response.statusMessage ?? '',
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
            ...(errorBody === undefined ? {} : { body: errorBody }),
          };
        }
        const { mediaType, charset } = parseContentType(response.headers['content-type']);
        if (!options.acceptsContentType(mediaType)) {
          response.destroy();
          return { kind: 'unsupported_type', url: finalUrl, mediaType };
        }
        const { body, truncated } = await readCapped(response, options.maxBytes);
        return { kind: 'ok', finalUrl, status, mediaType, charset, body, truncated, redirects };
      } catch (error) {
        if (deadline.signal.aborted) return { kind: 'timeout', url: current };
        if (options.signal?.aborted) throw options.signal.reason;
        return { kind: 'network_error', url: current, message: networkMessage(error) };
      }
    }
  } finally {
    clearTimeout(timer);
  }
}
