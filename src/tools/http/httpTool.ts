/**
 * One HTTP tool's activity handler: checks the model's arguments against the tool's input schema, renders
 * the request, adds the auth header, sends it through the URL policy as an operator URL (so
 * `URL_POLICY_ALLOW_HOSTS` applies), and hands the model the (extracted) response, capped and marked
 * untrusted. Failures are results, classified like the built-in tools'; secrets appear nowhere.
 */
import { createAjv } from '../../definitions/jsonSchema.js';
import { compileTemplate, type CompiledTemplate } from '../../definitions/expressions.js';
import { redactSecrets, Secret } from '../../models/secret.js';
import { guardedFetch, type FetchOutcome } from '../../net/guardedFetch.js';
import { PUBLIC_ONLY, type UrlPolicy } from '../../net/urlPolicy.js';
import type { ToolCallResult, ToolFailureKind } from '../../shared/toolTypes.js';
import type { Tool } from '../registry.js';
import { clampLimit, parseToolCall, wrapUntrusted, type ResultBuilder } from '../web/toolOutput.js';
import type { LoadedHttpTool } from './loadHttpTools.js';
import { asText, evaluateWith, renderUrl } from './templates.js';
import { z } from 'zod';

export const HTTP_TOOL_USER_AGENT = 'durable-agents-http-tool/0.1';
/** Bytes of an error response shown to the model (after secrets are redacted). */
const ERROR_BODY_BYTES = 1_024;

export interface HttpToolDeps {
  readonly urlPolicy?: UrlPolicy;
  /** Settings, read once here: a `key` auth's key is held as a Secret from then on. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A bearer token for a scope from the app's identity (src/azure/credentials.ts). */
  readonly tokenFor: (scope: string) => Promise<string>;
  readonly now?: () => number;
}

class RequestBuildError extends Error {}

/** A body template: strings are templates (exactly `{{ expr }}` keeps the value's type), the rest is kept. */
function renderBody(value: unknown, variables: Record<string, unknown>): unknown {
  if (typeof value === 'string') return evaluateWith(compileTemplate(value), variables);
  if (Array.isArray(value)) return value.map((item) => renderBody(item, variables));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderBody(item, variables)]));
  }
  return value;
}

function statusKind(status: number): { kind: ToolFailureKind; retryable: boolean } {
  if (status === 429) return { kind: 'rate_limited', retryable: true };
  if (status === 408 || status === 504) return { kind: 'timeout', retryable: true };
  if (status >= 500) return { kind: 'upstream_error', retryable: true };
  if (status === 401 || status === 403) return { kind: 'not_configured', retryable: false };
  return { kind: 'upstream_error', retryable: false };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The URL as errors show it: origin and path only, since query values may be the model's arguments. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export function createHttpTool(loaded: LoadedHttpTool, deps: HttpToolDeps): Tool {
  const { definition } = loaded;
  const name = definition.name;
  const validate = createAjv().compile(definition.input);
  const auth = definition.auth;
  // The key is read once, at startup; the loader already refused a tool whose setting is missing.
  const key = auth?.type === 'key' ? new Secret(deps.env[auth.setting]?.trim() ?? '') : undefined;
  const now = deps.now ?? (() => performance.now());
  const policy = deps.urlPolicy ?? PUBLIC_ONLY;
  const ArgumentsShape = z.record(z.string(), z.unknown());

  async function authHeader(): Promise<Record<string, string>> {
    if (auth?.type === 'key' && key) return { [auth.header]: `${auth.prefix}${key.reveal()}` };
    if (auth?.type === 'managed-identity')
      return { authorization: `Bearer ${await deps.tokenFor(auth.scope)}` };
    return {};
  }

  function failure(
    outcome: Exclude<FetchOutcome, { kind: 'ok' }>,
    results: ResultBuilder,
    timeoutMs: number,
    secrets: Secret[],
  ) {
    const clean = (text: string) => redactSecrets(text, secrets);
    switch (outcome.kind) {
      case 'blocked':
        return results.failure(
          outcome.code === 'unresolvable' ? 'upstream_error' : 'blocked_url',
          clean(`${name} could not call ${shownUrl(outcome.url)}: ${outcome.reason}.`),
          {
            retryable: outcome.code === 'unresolvable' && outcome.reason.includes('EAI_AGAIN'),
            data: { code: outcome.code, ...(outcome.range ? { range: outcome.range } : {}) },
          },
        );
      case 'http_error': {
        const { kind, retryable } = statusKind(outcome.status);
        const detail = outcome.body?.length ? `\n${clean(outcome.body.toString('utf8'))}` : '';
        const advice =
          kind === 'not_configured'
            ? " The tool's credentials were refused; an operator must fix its auth."
            : '';
        return results.failure(
          kind,
          `${name} answered HTTP ${outcome.status}${outcome.statusText ? ` ${outcome.statusText}` : ''}.${advice}${detail}`,
          {
            retryable,
            ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
            data: { status: outcome.status },
          },
        );
      }
      case 'too_many_redirects':
        return results.failure(
          'upstream_error',
          `${name} answered with a redirect; HTTP tools do not follow redirects.`,
        );
      case 'timeout':
        return results.failure('timeout', `${name} gave no complete answer within ${timeoutMs} ms.`, {
          retryable: true,
        });
      case 'network_error':
        return results.failure('upstream_error', clean(`${name} could not be reached: ${outcome.message}`), {
          retryable: true,
        });
      case 'unsupported_type':
        return results.failure('upstream_error', `${name} answered with ${outcome.mediaType}.`);
    }
  }

  return {
    spec: { name, description: definition.description, inputSchema: definition.input },
    async handler(rawInput): Promise<ToolCallResult> {
      const call = parseToolCall(rawInput, name, ArgumentsShape, now);
      if (!call.ok) return call.result;
      const { args, limits, results, input } = call;
      if (!validate(args)) {
        const problems = (validate.errors ?? [])
          .map((error) => `${error.instancePath || '(arguments)'} ${error.message ?? 'is invalid'}`)
          .join('; ');
        return results.failure(
          'invalid_arguments',
          `Invalid arguments for ${name}: ${problems}. Fix them and call the tool again.`,
        );
      }
      const variables = {
        args,
        call: { runId: input.runId, stepId: input.stepId, toolUseId: input.toolUseId },
      };
      let url: string;
      let headers: Record<string, string>;
      let body: Buffer | undefined;
      try {
        url = renderUrl(loaded.url, variables);
        headers = Object.fromEntries(
          loaded.headers.map(([header, template]) => {
            const value = asText(evaluateWith(template, variables));
            if (/[\r\n]/.test(value))
              throw new RequestBuildError(`header ${header} would contain a line break`);
            return [header, value];
          }),
        );
        if (definition.body !== undefined) {
          const rendered = renderBody(definition.body, variables);
          body = Buffer.from(JSON.stringify(rendered));
          if (!Object.keys(headers).some((header) => header.toLowerCase() === 'content-type'))
            headers['content-type'] = 'application/json';
        }
      } catch (error) {
        return results.failure(
          'invalid_arguments',
          `${name} could not build its request from these arguments: ${(error as Error).message}`,
        );
      }
      let credentials: Record<string, string>;
      try {
        credentials = await authHeader();
      } catch (error) {
        const reason = (error as Error).message.split('\n')[0] ?? 'unknown error';
        return results.failure(
          'not_configured',
          `${name} could not get a token for its scope (${auth?.type === 'managed-identity' ? auth.scope : ''}): ${reason}`,
        );
      }
      const secrets = [
        ...(key ? [key] : []),
        ...Object.values(credentials).map((value) => new Secret(value.replace(/^Bearer /, ''))),
      ];
      const timeoutMs = clampLimit(limits.timeoutMs, definition.limits.timeoutMs);
      const outcome = await guardedFetch(url, {
        policy,
        origin: 'operator',
        method: definition.method,
        headers: { accept: 'application/json, text/plain;q=0.9, */*;q=0.1', ...headers, ...credentials },
        ...(body === undefined ? {} : { body }),
        maxBytes: definition.limits.maxResponseBytes + 1,
        timeoutMs,
        maxRedirects: 0,
        userAgent: HTTP_TOOL_USER_AGENT,
        acceptsContentType: () => true,
        errorBodyBytes: ERROR_BODY_BYTES,
        allowDomains: limits.allowDomains,
        blockDomains: limits.blockDomains,
      });
      if (outcome.kind !== 'ok') return failure(outcome, results, timeoutMs, secrets);
      if (outcome.truncated || outcome.body.length > definition.limits.maxResponseBytes) {
        return results.failure(
          'output_too_large',
          `${name} answered with more than ${definition.limits.maxResponseBytes} bytes (its maxResponseBytes); ask for less.`,
          { data: { status: outcome.status } },
        );
      }
      const text = outcome.body.toString('utf8');
      const { mediaType } = outcome;
      const json = mediaType === '' || mediaType.includes('json') ? parseJson(text) : { ok: false as const };
      let value: unknown = json.ok ? json.value : text;
      if (loaded.extract) {
        try {
          value = evaluateExtract(loaded.extract, value, outcome.status);
        } catch (error) {
          return results.failure(
            'upstream_error',
            `${name}: the tool's extract expression failed on this response: ${(error as Error).message}`,
            { data: { status: outcome.status } },
          );
        }
      }
      const shown = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
      const { content, truncated } = wrapUntrusted({
        preamble: `${name} answered HTTP ${outcome.status}.`,
        source: name,
        body: redactSecrets(shown, secrets),
        maxBytes: clampLimit(limits.maxOutputBytes, definition.limits.maxOutputBytes),
      });
      return results.success(content, {
        truncated,
        data: { status: outcome.status, bytes: outcome.body.length },
      });
    },
  };
}

/** `status` is a CEL int, so `status == 200` compares like with like. */
function evaluateExtract(template: CompiledTemplate, response: unknown, status: number): unknown {
  return evaluateWith(template, { response, status: BigInt(status) });
}
