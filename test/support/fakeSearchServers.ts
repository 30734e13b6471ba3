/**
 * Fake Tavily and Brave Search APIs on loopback, speaking their wire formats: the real paths, auth
 * headers, request fields, response bodies and error bodies. Every request is recorded; tests script
 * one-off replies (429 with retry-after, 500, 401, ...) with `enqueue`, and otherwise get results for the
 * query from `results` (deterministic by default). Point a provider at `baseUrl`.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeResult {
  readonly title: string;
  readonly url: string;
  readonly snippet: string;
  readonly publishedDate?: string;
}

export interface RecordedSearchRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body (Tavily), or undefined (Brave's GET). */
  readonly body: unknown;
}

export interface ScriptedReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON unless it is a string. */
  readonly body?: unknown;
  /** Wait before answering (to trip client timeouts). */
  readonly delayMs?: number;
}

export type ResultsFor = (query: string) => readonly FakeResult[];

export interface FakeSearchServer {
  readonly baseUrl: string;
  readonly requests: RecordedSearchRequest[];
  /** The next requests get these replies, in order; then it is back to normal results. */
  enqueue(...replies: ScriptedReply[]): void;
  /** Replace the results served for normal requests. */
  setResults(results: ResultsFor): void;
  close(): Promise<void>;
}

export interface FakeSearchServerOptions {
  /** The key the fake accepts; any other (or none) gets the provider's auth error. */
  readonly apiKey: string;
  readonly results?: ResultsFor;
}

/** Three stable results whose URLs and titles carry the query, so assertions can match on it. */
export const defaultResults: ResultsFor = (query) => {
  const slug = encodeURIComponent(query.toLowerCase().replace(/\s+/g, '-'));
  return [1, 2, 3].map((n) => ({
    title: `Result ${n} for ${query}`,
    url: `https://example.com/${slug}/${n}`,
    snippet: `Snippet ${n} about ${query}.`,
    ...(n === 1 ? { publishedDate: '2025-01-15T00:00:00Z' } : {}),
  }));
};

const hostOf = (url: string) => new URL(url).hostname.toLowerCase();
const inDomain = (url: string, domain: string) =>
  hostOf(url) === domain.toLowerCase() || hostOf(url).endsWith(`.${domain.toLowerCase()}`);

interface Handler {
  readonly path: string;
  readonly method: 'GET' | 'POST';
  authorized(request: RecordedSearchRequest): boolean;
  unauthorized(): ScriptedReply;
  answer(request: RecordedSearchRequest, results: ResultsFor): ScriptedReply;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, reply: ScriptedReply): void {
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
  response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
  response.end(text);
}

async function startFake(handler: Handler, options: FakeSearchServerOptions): Promise<FakeSearchServer> {
  const requests: RecordedSearchRequest[] = [];
  const queue: ScriptedReply[] = [];
  let results = options.results ?? defaultResults;
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const text = await readBody(request);
      let body: unknown;
      try {
        body = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        body = text;
      }
      const recorded: RecordedSearchRequest = {
        method: request.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: request.headers,
        body,
      };
      requests.push(recorded);
      const scripted = queue.shift();
      let reply: ScriptedReply;
      if (scripted) reply = scripted;
      else if (url.pathname !== handler.path || request.method !== handler.method) {
        reply = { status: 404, body: { error: `no route for ${request.method} ${url.pathname}` } };
      } else if (!handler.authorized(recorded)) reply = handler.unauthorized();
      else reply = handler.answer(recorded, results);
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (!response.destroyed) send(response, reply);
    })().catch((error: unknown) => {
      response.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    setResults: (next) => {
      results = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Tavily error bodies are `{ detail: { error } }`. */
export const tavilyReplies = {
  rateLimited: (retryAfterSeconds = 2): ScriptedReply => ({
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds) },
    body: { detail: { error: 'Your request has been blocked due to excessive requests.' } },
  }),
  serverError: (): ScriptedReply => ({ status: 500, body: { detail: { error: 'Internal Server Error' } } }),
  unauthorized: (): ScriptedReply => ({
    status: 401,
    body: { detail: { error: 'Unauthorized: missing or invalid API key.' } },
  }),
  badRequest: (message = 'Invalid request'): ScriptedReply => ({
    status: 400,
    body: { detail: { error: message } },
  }),
  planLimit: (): ScriptedReply => ({
    status: 432,
    body: { detail: { error: "This request exceeds your plan's set usage limit." } },
  }),
};

/** Tavily: `POST /search`, `Authorization: Bearer <key>`, JSON body with `query`, `max_results`, domains. */
export function startFakeTavily(options: FakeSearchServerOptions): Promise<FakeSearchServer> {
  return startFake(
    {
      path: '/search',
      method: 'POST',
      authorized: (request) => request.headers.authorization === `Bearer ${options.apiKey}`,
      unauthorized: tavilyReplies.unauthorized,
      answer(request, results) {
        const body = (request.body ?? {}) as {
          query?: string;
          max_results?: number;
          include_domains?: string[];
          exclude_domains?: string[];
        };
        if (typeof body.query !== 'string' || body.query === '')
          return tavilyReplies.badRequest('query is required');
        const include = body.include_domains ?? [];
        const exclude = body.exclude_domains ?? [];
        const kept = results(body.query)
          .filter((result) => include.length === 0 || include.some((domain) => inDomain(result.url, domain)))
          .filter((result) => !exclude.some((domain) => inDomain(result.url, domain)))
          .slice(0, body.max_results ?? 5);
        return {
          status: 200,
          body: {
            query: body.query,
            follow_up_questions: null,
            answer: null,
            images: [],
            results: kept.map((result, index) => ({
              title: result.title,
              url: result.url,
              content: result.snippet,
              score: 0.9 - index * 0.1,
              raw_content: null,
              ...(result.publishedDate ? { published_date: result.publishedDate } : {}),
            })),
            response_time: 0.42,
          },
        };
      },
    },
    options,
  );
}

const braveError = (status: number, code: string, detail: string) => ({
  type: 'ErrorResponse',
  error: { id: '00000000-0000-0000-0000-000000000000', status, code, detail, meta: { component: 'api' } },
  time: 1_700_000_000,
});

/** Brave error bodies are `{ type: 'ErrorResponse', error: { status, code, detail } }`. */
export const braveReplies = {
  rateLimited: (retryAfterSeconds = 1): ScriptedReply => ({
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds), 'x-ratelimit-remaining': '0' },
    body: braveError(429, 'RATE_LIMITED', 'Request rate limit exceeded for plan.'),
  }),
  serverError: (): ScriptedReply => ({
    status: 500,
    body: braveError(500, 'INTERNAL_ERROR', 'Unexpected error.'),
  }),
  unauthorized: (): ScriptedReply => ({
    status: 401,
    body: braveError(401, 'UNAUTHORIZED', 'Authentication required.'),
  }),
  invalidToken: (): ScriptedReply => ({
    status: 422,
    body: braveError(422, 'SUBSCRIPTION_TOKEN_INVALID', 'The provided subscription token is invalid.'),
  }),
};

/** Brave: `GET /res/v1/web/search?q=&count=`, `X-Subscription-Token: <key>`, results under `web.results`. */
export function startFakeBrave(options: FakeSearchServerOptions): Promise<FakeSearchServer> {
  return startFake(
    {
      path: '/res/v1/web/search',
      method: 'GET',
      authorized: (request) => request.headers['x-subscription-token'] === options.apiKey,
      unauthorized: braveReplies.invalidToken,
      answer(request, results) {
        const query = request.query.q ?? '';
        const count = Number(request.query.count ?? '20');
        const site = /\bsite:(\S+)/.exec(query)?.[1];
        const text = query.replace(/\s*\bsite:\S+/, '');
        const kept = results(text)
          .filter((result) => site === undefined || inDomain(result.url, site))
          .slice(0, count);
        return {
          status: 200,
          body: {
            type: 'search',
            query: { original: query, more_results_available: false },
            mixed: { type: 'mixed', main: [] },
            web: {
              type: 'search',
              family_friendly: true,
              results: kept.map((result) => ({
                type: 'search_result',
                title: result.title,
                url: result.url,
                description: result.snippet,
                is_source_local: false,
                is_source_both: false,
                language: 'en',
                family_friendly: true,
                profile: { name: hostOf(result.url), url: result.url, long_name: hostOf(result.url) },
                meta_url: {
                  scheme: 'https',
                  netloc: hostOf(result.url),
                  hostname: hostOf(result.url),
                  path: '',
                },
                ...(result.publishedDate ? { page_age: result.publishedDate, age: 'January 15, 2025' } : {}),
              })),
            },
          },
        };
      },
    },
    options,
  );
}
