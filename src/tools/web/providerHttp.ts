import { parseRetryAfter } from '../../models/errors.js';
import { redactSecrets, type Secret } from '../../models/secret.js';
import { classifySearchStatus, SearchProviderError, type SearchFailureKind } from './webSearch.js';

export type FetchFunction = typeof fetch;

export interface ProviderRequest {
  /** Display name in messages, e.g. "Tavily". */
  readonly provider: string;
  /** The setting an operator fixes when the key is rejected, e.g. TAVILY_API_KEY. */
  readonly keySetting: string;
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly secret: Secret;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly fetch?: FetchFunction | undefined;
  /** Provider-specific statuses or error codes that override the generic classification. */
  readonly classify?: (
    status: number,
    body: unknown,
  ) => { kind: SearchFailureKind; retryable: boolean } | undefined;
}

const MAX_ERROR_BODY_CHARS = 300;

/** Pulls a human message out of the JSON error shapes search APIs use. */
function errorDetail(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ['detail', 'error', 'message']) {
    const value = record[key];
    if (typeof value === 'string') return value;
    if (typeof value === 'object' && value !== null) {
      const nested = errorDetail(value);
      if (nested !== undefined) return nested;
    }
  }
  return undefined;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.slice(0, MAX_ERROR_BODY_CHARS);
  }
}

/**
 * One JSON request to a search API. Every failure becomes a SearchProviderError with the key redacted
 * from its message: 429 carries the server's retry hint, 5xx and network failures are retryable,
 * 401/403 mean the key needs fixing.
 */
export async function requestProviderJson(request: ProviderRequest): Promise<unknown> {
  const clean = (text: string) => redactSecrets(text, [request.secret]).slice(0, MAX_ERROR_BODY_CHARS);
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  let response: Response;
  try {
    response = await (request.fetch ?? fetch)(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      redirect: 'error',
      signal,
    });
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason;
    if (timeout.aborted) {
      throw new SearchProviderError(`${request.provider} did not answer within ${request.timeoutMs} ms`, {
        kind: 'timeout',
        retryable: true,
      });
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const code = (cause as { code?: unknown }).code;
    const detail = typeof code === 'string' ? code : cause instanceof Error ? cause.message : String(cause);
    throw new SearchProviderError(clean(`${request.provider} could not be reached (${detail})`), {
      kind: 'upstream_error',
      retryable: true,
    });
  }

  if (!response.ok) {
    const body = await readBody(response).catch(() => undefined);
    const { kind, retryable } =
      request.classify?.(response.status, body) ?? classifySearchStatus(response.status);
    const retryAfterMs = parseRetryAfter(response.headers, Date.now());
    const detail = errorDetail(body);
    const advice =
      kind === 'not_configured'
        ? ` Check ${request.keySetting}.`
        : kind === 'rate_limited'
          ? ' Slow down.'
          : '';
    throw new SearchProviderError(
      clean(`${request.provider} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}.${advice}`),
      { kind, retryable, status: response.status, retryAfterMs },
    );
  }
  try {
    return await response.json();
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason;
    const what = timeout.aborted
      ? `did not finish answering within ${request.timeoutMs} ms`
      : 'sent a response that is not JSON';
    throw new SearchProviderError(`${request.provider} ${what}`, {
      kind: timeout.aborted ? 'timeout' : 'upstream_error',
      retryable: true,
      cause: error,
    });
  }
}
