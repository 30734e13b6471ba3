import type { ToolFailureKind, ToolSpend } from '../../shared/toolTypes.js';
import { domainListViolation, type DomainLists } from '../../net/domains.js';

/** One search hit, the same shape whichever provider found it. */
export interface SearchResult {
  readonly title: string;
  readonly url: string;
  readonly snippet: string;
  readonly publishedDate?: string;
  /** The provider that returned it: `tavily`, `brave` or `claude`. */
  readonly source: string;
}

export interface SearchOptions extends DomainLists {
  readonly maxResults: number;
  readonly signal?: AbortSignal;
  /** Called with every billed model call the provider makes (Claude's side call), before it returns or throws. */
  readonly onSpend?: (spend: ToolSpend) => void;
}

export interface SearchProvider {
  readonly name: string;
  /** Throws SearchProviderError for every failure the caller should report rather than crash on. */
  search(query: string, options: SearchOptions): Promise<readonly SearchResult[]>;
}

export type SearchFailureKind = Extract<
  ToolFailureKind,
  'rate_limited' | 'upstream_error' | 'not_configured' | 'timeout' | 'invalid_arguments'
>;

/** A provider failure, classified like model errors: kind, retryability and the server's retry hint. */
export class SearchProviderError extends Error {
  readonly kind: SearchFailureKind;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(
    message: string,
    details: {
      kind: SearchFailureKind;
      retryable: boolean;
      status?: number | undefined;
      retryAfterMs?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.kind = details.kind;
    this.retryable = details.retryable;
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
}

/** Kind and retryability for a search API's HTTP status. */
export function classifySearchStatus(status: number): { kind: SearchFailureKind; retryable: boolean } {
  if (status === 429) return { kind: 'rate_limited', retryable: true };
  if (status === 401 || status === 403) return { kind: 'not_configured', retryable: false };
  if (status === 408 || status === 504) return { kind: 'timeout', retryable: true };
  if (status >= 500) return { kind: 'upstream_error', retryable: true };
  return { kind: 'upstream_error', retryable: false };
}

const TRACKING_PARAMETER = /^(utm_[a-z]+|fbclid|gclid|msclkid|mc_cid|mc_eid|ref_src)$/i;

/**
 * The key two results share when they are the same page: scheme and `www.` ignored, default port,
 * fragment, tracking parameters and a trailing slash dropped. Undefined for anything not http(s).
 */
export function normalizeResultUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const host = url.hostname
    .toLowerCase()
    .replace(/^www\./, '')
    .replace(/\.$/, '');
  const parameters = [...url.searchParams].filter(([name]) => !TRACKING_PARAMETER.test(name));
  const search = new URLSearchParams(parameters).toString();
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : '';
  const port = url.port === '' ? '' : `:${url.port}`;
  return `${host}${port}${path}${search ? `?${search}` : ''}`;
}

const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  hellip: '…',
  mdash: '—',
  ndash: '–',
};

/** Snippets arrive with highlight markup (`<strong>`) and entities; the model wants plain text. */
export function plainSnippet(text: string): string {
  return text
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (match, entity: string) => {
      if (entity.startsWith('#x') || entity.startsWith('#X')) {
        return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
      }
      if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
      return ENTITIES[entity.toLowerCase()] ?? match;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

const MAX_SNIPPET_CHARS = 600;
const MAX_TITLE_CHARS = 300;

/**
 * Cleans, filters, de-duplicates and caps provider results. Domain lists are enforced here whatever the
 * provider did with them, so a provider that ignores a filter cannot leak a blocked site.
 */
export function finalizeResults(
  results: readonly SearchResult[],
  options: DomainLists & { readonly maxResults: number },
): SearchResult[] {
  const seen = new Set<string>();
  const kept: SearchResult[] = [];
  for (const result of results) {
    if (kept.length >= options.maxResults) break;
    const key = normalizeResultUrl(result.url);
    if (key === undefined || seen.has(key)) continue;
    const hostname = new URL(result.url.trim()).hostname;
    if (domainListViolation(hostname, options) !== undefined) continue;
    seen.add(key);
    const title = plainSnippet(result.title).slice(0, MAX_TITLE_CHARS);
    kept.push({
      title: title || hostname,
      url: result.url.trim(),
      snippet: plainSnippet(result.snippet).slice(0, MAX_SNIPPET_CHARS),
      ...(result.publishedDate ? { publishedDate: result.publishedDate } : {}),
      source: result.source,
    });
  }
  return kept;
}

/** The model-facing listing: numbered, one result per block, dates where the provider had them. */
export function formatResults(results: readonly SearchResult[]): string {
  return results
    .map((result, index) => {
      const date = result.publishedDate ? ` (published ${result.publishedDate})` : '';
      const snippet = result.snippet ? `\n   ${result.snippet}` : '';
      return `${index + 1}. ${result.title}${date}\n   ${result.url}${snippet}`;
    })
    .join('\n\n');
}
