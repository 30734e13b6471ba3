import {
  AnthropicError,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { FailureKind } from '../shared/modelTypes.js';
import { redactSecrets, type Secret } from './secret.js';

/** The endpoint answered 2xx with a body we cannot use (not JSON, or missing fields). */
export class ModelResponseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The model finished, but its structured answer is not JSON or does not match the requested schema. */
export class InvalidOutputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Getting an Entra ID token failed (no managed identity, not logged in, wrong tenant). */
export class CredentialError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface ClassifiedFailure {
  readonly kind: FailureKind;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly message: string;
}

const MAX_MESSAGE_CHARS = 500;

/** Kind and retryability for an HTTP status, per the durability rules in DESIGN.md. */
export function classifyStatus(status: number): Pick<ClassifiedFailure, 'kind' | 'retryable'> {
  switch (status) {
    case 400:
    case 413:
      return { kind: 'bad_request', retryable: false };
    case 401:
      return { kind: 'unauthorized', retryable: false };
    case 402:
    case 403:
      return { kind: 'forbidden', retryable: false };
    case 404:
      return { kind: 'not_found', retryable: false };
    case 408:
    case 504:
      return { kind: 'timeout', retryable: true };
    case 409:
      return { kind: 'server_error', retryable: true };
    case 422:
      return { kind: 'unprocessable', retryable: false };
    case 429:
      return { kind: 'rate_limited', retryable: true };
    case 503:
    case 529:
      return { kind: 'overloaded', retryable: true };
    default:
      return status >= 500
        ? { kind: 'server_error', retryable: true }
        : { kind: 'bad_request', retryable: false };
  }
}

type HeaderSource = Headers | Readonly<Record<string, string | undefined>> | undefined;

function header(headers: HeaderSource, name: string): string | undefined {
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** Milliseconds to wait from `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
export function parseRetryAfter(headers: HeaderSource, nowMs: number): number | undefined {
  const ms = Number.parseFloat(header(headers, 'retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const value = header(headers, 'retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 8;) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

const isApiError = (error: unknown): error is APIError | InstanceType<typeof OpenAI.APIError> =>
  error instanceof APIError || error instanceof OpenAI.APIError;
const isTimeout = (error: unknown) =>
  error instanceof APIConnectionTimeoutError ||
  error instanceof OpenAI.APIConnectionTimeoutError ||
  error instanceof APIUserAbortError ||
  error instanceof OpenAI.APIUserAbortError;
const isConnection = (error: unknown) =>
  error instanceof APIConnectionError || error instanceof OpenAI.APIConnectionError;
/**
 * 400s that say something about the request's fit rather than its form, so the orchestrator can
 * move to the next deployment instead of failing:
 * - Claude API / Foundry: `invalid_request_error` "prompt is too long: 200251 tokens > 200000
 *   maximum", or "input length and `max_tokens` exceed context limit: 178959 + 64000 > 200000, …"
 *   (https://platform.claude.com/docs/en/build-with-claude/context-windows; bodies as seen in
 *   https://github.com/boldsoftware/exe.dev/issues/62, https://github.com/docker/docker-agent/issues/569).
 * - OpenAI and Azure OpenAI: `code: "context_length_exceeded"`
 *   (https://platform.openai.com/docs/guides/error-codes; Azure returns the same body,
 *   https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference).
 * - Azure OpenAI: a prompt its content filter blocks is a 400 with `code: "content_filter"`
 *   (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/concepts/content-filter).
 */
function fitFailure(error: APIError | InstanceType<typeof OpenAI.APIError>): FailureKind | undefined {
  if (error.status !== 400) return undefined;
  if (error instanceof APIError) {
    const prompt =
      error.type === 'invalid_request_error' &&
      /prompt is too long|exceed context limit/i.test(error.apiMessage ?? '');
    return prompt ? 'context_window_exceeded' : undefined;
  }
  if (error.code === 'context_length_exceeded') return 'context_window_exceeded';
  return error.code === 'content_filter' ? 'refusal' : undefined;
}

const isSdkError = (error: unknown) => error instanceof AnthropicError || error instanceof OpenAI.OpenAIError;

/**
 * Turns what a provider call threw into a typed failure. Errors that are not about the model call
 * (programming errors) are re-thrown: they are bugs, not outcomes a workflow should branch on.
 */
export function classifyModelError(
  error: unknown,
  options: { readonly nowMs: number; readonly secrets?: readonly Secret[] },
): ClassifiedFailure {
  const clean = (text: string) => {
    const redacted = redactSecrets(text, options.secrets);
    return redacted.length > MAX_MESSAGE_CHARS ? `${redacted.slice(0, MAX_MESSAGE_CHARS)}…` : redacted;
  };
  const chain = causeChain(error);
  const credential = chain.find((link) => link instanceof CredentialError);
  if (credential) return { kind: 'unauthorized', retryable: false, message: clean(credential.message) };
  if (error instanceof InvalidOutputError) {
    return { kind: 'invalid_output', retryable: false, message: clean(error.message) };
  }
  if (error instanceof ModelResponseError || error instanceof SyntaxError) {
    return {
      kind: 'server_error',
      retryable: true,
      message: clean(`Malformed response body: ${error.message}`),
    };
  }
  if (isTimeout(error)) return { kind: 'timeout', retryable: true, message: 'The model request timed out' };
  if (isConnection(error)) {
    const detail = chain.slice(1).find((link): link is Error => link instanceof Error)?.message;
    return {
      kind: 'network',
      retryable: true,
      message: clean(`Connection error${detail ? `: ${detail}` : ''}`),
    };
  }
  if (isApiError(error) && typeof error.status === 'number') {
    const fit = fitFailure(error);
    // Not retryable on the same deployment: the same prompt gets the same answer. The orchestrator
    // falls back to the next deployment in the role's chain for these kinds.
    if (fit) return { kind: fit, retryable: false, status: error.status, message: clean(error.message) };
    const { kind, retryable } = classifyStatus(error.status);
    const shouldRetry = header(error.headers, 'x-should-retry');
    const retryAfterMs = parseRetryAfter(error.headers, options.nowMs);
    return {
      kind,
      retryable: shouldRetry === 'true' ? true : shouldRetry === 'false' ? false : retryable,
      status: error.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      message: clean(error.message),
    };
  }
  if (isSdkError(error)) return { kind: 'bad_request', retryable: false, message: clean(error.message) };
  throw error;
}
