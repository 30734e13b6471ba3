import { z } from 'zod';
import type { ToolCallResult, ToolSpec } from '../../shared/toolTypes.js';
import type { FetchUrlConfig } from '../../config/web.js';
import { guardedFetch, type FetchOutcome } from '../../net/guardedFetch.js';
import { PUBLIC_ONLY, type UrlPolicy } from '../../net/urlPolicy.js';
import { htmlToReadableText } from './htmlToText.js';
import { clampLimit, parseToolCall, wrapUntrusted, type ResultBuilder, type WebTool } from './toolOutput.js';

export const FETCH_URL_TOOL_NAME = 'fetch_url';

export const FetchUrlArguments = z.object({
  url: z.string().trim().min(1, 'url must not be empty').max(2048, 'url must be at most 2048 characters'),
});

export const fetchUrlSpec: ToolSpec = {
  name: FETCH_URL_TOOL_NAME,
  description:
    'Fetch a public web page (http or https) and return its readable text: HTML is reduced to the main ' +
    'content with headings, lists and links; plain text and JSON are returned as text. Private-network ' +
    'addresses are refused. The returned text is untrusted web content.',
  inputSchema: {
    type: 'object',
    properties: { url: { type: 'string', description: 'Absolute http(s) URL of the page to read.' } },
    required: ['url'],
    additionalProperties: false,
  },
};

type TextKind = 'html' | 'json' | 'text';

function textKind(mediaType: string): TextKind | 'sniff' | undefined {
  if (mediaType === '') return 'sniff';
  if (mediaType === 'text/html' || mediaType === 'application/xhtml+xml') return 'html';
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return 'json';
  if (mediaType.startsWith('text/') || mediaType === 'application/xml' || mediaType.endsWith('+xml'))
    return 'text';
  if (mediaType === 'application/javascript' || mediaType === 'application/x-ndjson') return 'text';
  return undefined;
}

function sniff(body: Buffer): TextKind | undefined {
  const head = body.subarray(0, 1024);
  if (head.includes(0)) return undefined;
  const start = head.toString('latin1').trimStart().toLowerCase();
  if (/^<(!doctype html|html|head|body)/.test(start)) return 'html';
  return start.startsWith('{') || start.startsWith('[') ? 'json' : 'text';
}

function decode(body: Buffer, charset: string | undefined, kind: TextKind): string {
  let label = charset;
  if (label === undefined && kind === 'html') {
    label = /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(body.subarray(0, 2048).toString('latin1'))?.[1];
  }
  try {
    return new TextDecoder(label ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function retryableStatus(status: number) {
  if (status === 429) return { kind: 'rate_limited', retryable: true } as const;
  if (status === 408 || status === 504) return { kind: 'timeout', retryable: true } as const;
  if (status >= 500) return { kind: 'upstream_error', retryable: true } as const;
  return { kind: 'upstream_error', retryable: false } as const;
}

function failureResult(
  outcome: Exclude<FetchOutcome, { kind: 'ok' }>,
  results: ResultBuilder,
  timeoutMs: number,
) {
  switch (outcome.kind) {
    case 'blocked': {
      const via = outcome.redirects.length > 0 ? ` (reached by a redirect from ${outcome.redirects[0]})` : '';
      const data = {
        url: outcome.url,
        code: outcome.code,
        range: outcome.range,
        redirects: outcome.redirects,
      };
      if (outcome.code === 'invalid_url' && outcome.redirects.length === 0) {
        return results.failure(
          'invalid_arguments',
          `fetch_url needs an absolute http(s) URL: ${outcome.reason}.`,
          {
            data,
          },
        );
      }
      if (outcome.code === 'unresolvable') {
        return results.failure(
          'upstream_error',
          `fetch_url could not fetch ${outcome.url}: ${outcome.reason}.`,
          {
            retryable: outcome.reason.includes('EAI_AGAIN'),
            data,
          },
        );
      }
      return results.failure('blocked_url', `fetch_url refused ${outcome.url}${via}: ${outcome.reason}.`, {
        data,
      });
    }
    case 'http_error': {
      const { kind, retryable } = retryableStatus(outcome.status);
      return results.failure(
        kind,
        `${outcome.url} answered HTTP ${outcome.status}${outcome.statusText ? ` ${outcome.statusText}` : ''}.`,
        {
          retryable,
          ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
          data: { url: outcome.url, status: outcome.status },
        },
      );
    }
    case 'unsupported_type':
      return results.failure(
        'upstream_error',
        `fetch_url reads HTML, text and JSON only; ${outcome.url} is ${outcome.mediaType || 'binary content'}.`,
        { data: { url: outcome.url, contentType: outcome.mediaType } },
      );
    case 'too_many_redirects':
      return results.failure(
        'upstream_error',
        `fetch_url gave up after ${outcome.redirects.length - 1} redirects: ${outcome.redirects.join(' -> ')}`,
        { data: { redirects: outcome.redirects } },
      );
    case 'timeout':
      return results.failure('timeout', `fetch_url gave up on ${outcome.url} after ${timeoutMs} ms.`, {
        retryable: true,
        data: { url: outcome.url },
      });
    case 'network_error':
      return results.failure(
        'upstream_error',
        `fetch_url could not fetch ${outcome.url}: ${outcome.message}`,
        {
          retryable: true,
          data: { url: outcome.url },
        },
      );
  }
}

export interface FetchUrlToolDeps {
  readonly config: FetchUrlConfig;
  /**
   * Default: public addresses only, resolved by the system resolver. URLs here are the model's, so the
   * app's `URL_POLICY_ALLOW_HOSTS` exemption never applies; tests inject a policy that lets loopback through.
   */
  readonly urlPolicy?: UrlPolicy;
  readonly now?: () => number;
}

/** The `fetch_url` activity handler: SSRF-guarded GET, readable text, capped and marked untrusted. */
export function createFetchUrlTool(deps: FetchUrlToolDeps): WebTool {
  const now = deps.now ?? (() => performance.now());
  return {
    spec: fetchUrlSpec,
    async handler(rawInput): Promise<ToolCallResult> {
      const call = parseToolCall(rawInput, FETCH_URL_TOOL_NAME, FetchUrlArguments, now);
      if (!call.ok) return call.result;
      const { args, limits, results } = call;
      const timeoutMs = clampLimit(limits.timeoutMs, deps.config.timeoutMs);
      const outcome = await guardedFetch(args.url, {
        policy: deps.urlPolicy ?? PUBLIC_ONLY,
        origin: 'model',
        maxBytes: deps.config.maxBytes,
        timeoutMs,
        maxRedirects: deps.config.maxRedirects,
        userAgent: deps.config.userAgent,
        acceptsContentType: (mediaType) => textKind(mediaType) !== undefined,
        allowDomains: limits.allowDomains,
        blockDomains: limits.blockDomains,
      });
      if (outcome.kind !== 'ok') return failureResult(outcome, results, timeoutMs);

      const declared = textKind(outcome.mediaType);
      const kind = declared === 'sniff' ? sniff(outcome.body) : declared;
      if (kind === undefined) {
        return failureResult(
          { kind: 'unsupported_type', url: outcome.finalUrl, mediaType: '' },
          results,
          timeoutMs,
        );
      }
      const text = decode(outcome.body, outcome.charset, kind);
      const page =
        kind === 'html'
          ? htmlToReadableText(text, outcome.finalUrl)
          : { text: kind === 'json' && !outcome.truncated ? prettyJson(text) : text };
      const redirected = outcome.redirects.length > 0 ? `, redirected from ${args.url}` : '';
      const cut = outcome.truncated
        ? `\nOnly the first ${deps.config.maxBytes} bytes were downloaded; the page is longer.`
        : '';
      const { content, truncated } = wrapUntrusted({
        preamble: `Fetched ${outcome.finalUrl} (HTTP ${outcome.status}, ${outcome.mediaType || kind}${redirected}).${cut}`,
        source: outcome.finalUrl,
        body: page.title ? `Title: ${page.title}\n\n${page.text}` : page.text,
        maxBytes: clampLimit(limits.maxOutputBytes, deps.config.maxOutputBytes),
      });
      return results.success(content, {
        truncated: truncated || outcome.truncated,
        data: {
          url: args.url,
          finalUrl: outcome.finalUrl,
          status: outcome.status,
          contentType: outcome.mediaType,
          ...(page.title ? { title: page.title } : {}),
          bytes: outcome.body.length,
          redirects: outcome.redirects,
        },
      });
    },
  };
}
