import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { matchBatchRoute, type BatchItemAnswer, type BatchItemRequest } from './batchRoutes.js';
import { OfflineBatchStore } from './batchStore.js';
import { OFFLINE_HEADER } from './constants.js';
import { contextWindowError } from './contextWindow.js';
import { offlineReply } from './offlineModel.js';
import { openAIRejectionBody } from './openaiRules.js';
import {
  isResponsesPath,
  newIssuedReasoning,
  openAIRejection,
  viewResponsesRequest,
} from './responsesWire.js';
import { shortHash } from './prng.js';
import { unofferedServerToolProblem } from './serverTools.js';
import { OfflinePromptCache } from './promptCache.js';
import { emptyView, viewRequest, type Protocol, type RequestView } from './requestView.js';
import { errorBody, renderReply, type ModelReply, type WireResponse } from './wire.js';

export { OFFLINE_HEADER, OFFLINE_PREFIX } from './constants.js';
export type { ModelReply, WireUsage } from './wire.js';
export type { Protocol, RequestView } from './requestView.js';

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const SECRET_HEADERS = ['authorization', 'x-api-key', 'api-key'] as const;

const ROUTES: Readonly<Record<string, Protocol>> = {
  '/v1/messages': 'anthropic',
  '/anthropic/v1/messages': 'anthropic',
  '/v1/chat/completions': 'openai',
  '/openai/v1/chat/completions': 'openai',
  '/chat/completions': 'openai',
  '/v1/responses': 'openai',
  '/openai/v1/responses': 'openai',
};

/** A request's view: the Responses API has its own parser (responsesWire.ts). */
const viewFor = (protocol: Protocol, path: string, body: unknown) =>
  protocol === 'openai' && isResponsesPath(path) ? viewResponsesRequest(body) : viewRequest(protocol, body);

/** How a request authenticated, without the credential: compare `fingerprint` with credentialFingerprint(expected). */
export interface RecordedCredential {
  readonly header: (typeof SECRET_HEADERS)[number];
  readonly scheme: string | undefined;
  readonly fingerprint: string;
}

export interface RecordedModelRequest {
  /** 0-based arrival order. */
  readonly index: number;
  readonly protocol: Protocol | undefined;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** Lower-cased names; credential headers are `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly credential: RecordedCredential | undefined;
  /** The parsed JSON body (undefined when it was not JSON). */
  readonly body: unknown;
  /** Present when the body is a valid request for its protocol. */
  readonly view: RequestView | undefined;
  /** Set on a request inside a provider batch (see `batchItems`), which arrived in a batch, not over HTTP. */
  readonly batch?: { readonly id: string; readonly customId: string };
}

/** Decides the answer to a request; `undefined` means "answer like the offline model". */
export type ModelScript = (
  request: RecordedModelRequest,
) => ModelReply | undefined | Promise<ModelReply | undefined>;

export interface OfflineModelServerOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly script?: ModelScript;
  /** Let the process exit while the server is up (for a server started on demand by the app). */
  readonly unref?: boolean;
  /** The server's clock, for the prompt cache's TTLs (default Date.now). */
  readonly now?: () => number;
  /**
   * The Claude server tool types a deployment offers, like its hosting (`foundry` for requests on the
   * `/anthropic/v1/` path): a request with any other server tool gets the 400 that hosting sends
   * (serverTools.ts). Undefined for a deployment (or no option) = every known type is accepted.
   */
  readonly serverTools?: (provider: 'foundry' | 'anthropic', model: string) => readonly string[] | undefined;
}

export interface OfflineModelServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** For `new Anthropic({ baseURL })`: `/v1/messages` is appended. */
  readonly anthropicBaseUrl: string;
  /** For `new AnthropicFoundry({ baseURL })`, like `https://<resource>.services.ai.azure.com/anthropic/`. */
  readonly foundryBaseUrl: string;
  /** For `new OpenAI({ baseURL })`. */
  readonly openaiBaseUrl: string;
  /** For the plain OpenAI client on Azure OpenAI's v1 path (`<endpoint>/openai/v1/`). */
  readonly azureOpenAIBaseUrl: string;
  /** Every request received, in order. */
  readonly requests: readonly RecordedModelRequest[];
  /** Every request inside a provider batch, in the order they were answered (when the batch was created). */
  readonly batchItems: readonly RecordedModelRequest[];
  /** The simulated prompt cache (promptCache.ts); a route for another wire API reports through it too. */
  readonly promptCache: OfflinePromptCache;
  stop(): Promise<void>;
}

export function credentialFingerprint(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

function recordCredential(headers: IncomingMessage['headers']): RecordedCredential | undefined {
  for (const header of SECRET_HEADERS) {
    const value = headers[header];
    if (typeof value !== 'string' || value.length === 0) continue;
    const [scheme, token] = header === 'authorization' ? value.split(/\s+/, 2) : [undefined, value];
    return { header, scheme, fingerprint: credentialFingerprint(token ?? '') };
  }
  return undefined;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The seed of a request's answer: its bytes without `cache_control`, which marks what to cache and does not
 * change the prompt, so a request gets the same answer with caching on or off (MODEL_PROMPT_CACHE).
 */
function seedOf(protocol: string, bodyText: string, body: unknown): string {
  if (body === undefined || !bodyText.includes('"cache_control"')) return `${protocol}:${bodyText}`;
  return `${protocol}:${JSON.stringify(body, (key, value: unknown) => (key === 'cache_control' ? undefined : value))}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Starts the offline model on loopback: the Anthropic Messages and OpenAI Chat Completions wire protocols,
 * and their batch APIs, enough for the real SDK clients. Without a script every answer is the deterministic
 * stand-in's; with one, the script decides (tests use this through test/support/scriptedModel.ts): it answers
 * direct calls, batch create requests (a `batch` reply keeps the batch in progress for some polls) and every
 * request inside a batch (an `unprocessed` reply marks it expired or canceled).
 */
export async function startOfflineModelServer(
  options: OfflineModelServerOptions = {},
): Promise<OfflineModelServer> {
  const requests: RecordedModelRequest[] = [];
  const batchItems: RecordedModelRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let url = '';
  // Reasoning items this server handed out, so a follow-up turn can be checked against them.
  const issued = newIssuedReasoning();
  const promptCache = new OfflinePromptCache(options.now);
  /** What the prompt cache did for a valid request answered with a model turn (errors touch no cache). */
  const cacheFor = (reply: ModelReply, protocol: Protocol, view: RequestView | undefined, body: unknown) =>
    view && (reply.kind === 'text' || reply.kind === 'tool_use' || reply.kind === 'structured')
      ? promptCache.usage(protocol, body)
      : undefined;

  async function answerBatchItem(item: BatchItemRequest): Promise<BatchItemAnswer> {
    const parsed = viewFor(item.protocol, item.path, item.body);
    const recorded: RecordedModelRequest = {
      index: batchItems.length,
      protocol: item.protocol,
      method: 'POST',
      path: item.path,
      query: '',
      headers: {},
      credential: undefined,
      body: item.body,
      view: parsed.ok ? parsed.view : undefined,
      batch: { id: item.batchId, customId: item.customId },
    };
    batchItems.push(recorded);
    const bodyText = JSON.stringify(item.body);
    const seed = seedOf(item.protocol, bodyText, item.body);
    // A request the Claude API rejects is rejected before the script decides, so no test passes with it.
    if (item.protocol === 'anthropic' && !parsed.ok) {
      return { kind: 'response', status: 400, body: JSON.parse(errorBody('anthropic', 400, parsed.problem)) };
    }
    // The OpenAI APIs' request rules apply inside a batch too, before any script decides.
    const rejected = item.protocol === 'openai' ? openAIRejection(item.path, item.body, issued) : undefined;
    if (rejected) return { kind: 'response', status: 400, body: JSON.parse(openAIRejectionBody(rejected)) };
    // A request too large for the model's window is refused before any scripted answer, as live.
    const tooLong = parsed.ok ? contextWindowError(parsed.view, item.body) : undefined;
    const scripted = tooLong ? undefined : await options.script?.(recorded);
    if (scripted?.kind === 'unprocessed') return { kind: scripted.outcome };
    let wire: WireResponse;
    if (tooLong) {
      wire = tooLong;
    } else if (scripted && scripted.kind !== 'offline') {
      const view = recorded.view ?? emptyView(item.protocol, bodyText.length);
      const cache = cacheFor(scripted, item.protocol, recorded.view, item.body);
      wire = renderReply(view, scripted, seed, cache, issued);
    } else if (!parsed.ok) {
      wire = { status: 400, headers: {}, body: errorBody(item.protocol, 400, parsed.problem) };
    } else {
      const reply = offlineReply(parsed.view, seed);
      const cache = cacheFor(reply, item.protocol, parsed.view, item.body);
      wire = renderReply(parsed.view, reply, seed, cache, issued);
    }
    let body: unknown = wire.body;
    try {
      body = JSON.parse(wire.body);
    } catch {
      // A scripted malformed answer stays the raw text it is.
    }
    return { kind: 'response', status: wire.status, body };
  }
  const batches = new OfflineBatchStore(answerBatchItem);

  const send = (response: ServerResponse, wire: WireResponse, extraHeaders: Record<string, string>) => {
    if (response.destroyed) return;
    response.writeHead(wire.status, { ...wire.headers, ...extraHeaders });
    response.end(wire.body);
  };

  const wait = (ms: number, response: ServerResponse) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
      response.once('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve();
      });
    });

  const serverToolRejection = (path: string, view: RequestView): string | undefined => {
    const offered = options.serverTools?.(
      path.startsWith('/anthropic/') ? 'foundry' : 'anthropic',
      view.model,
    );
    return offered && view.serverTools?.length
      ? unofferedServerToolProblem(view.serverTools, offered, view.model)
      : undefined;
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const [path = '/', query = ''] = (request.url ?? '/').split('?', 2);
    const batchRoute = matchBatchRoute(request.method ?? 'GET', path.replace(/\/+$/, ''));
    const protocol = batchRoute?.protocol ?? ROUTES[path.replace(/\/+$/, '')];
    const rawBody = await readBody(request);
    const bodyText = rawBody.toString('utf8');
    const body = parseJson(bodyText);
    const parsed = protocol && !batchRoute && body !== undefined ? viewFor(protocol, path, body) : undefined;
    const headers = Object.fromEntries(
      Object.entries(request.headers).flatMap(([name, value]) =>
        value === undefined
          ? []
          : [[name, (SECRET_HEADERS as readonly string[]).includes(name) ? '[redacted]' : String(value)]],
      ),
    );
    const recorded: RecordedModelRequest = {
      index: requests.length,
      protocol,
      method: request.method ?? 'GET',
      path,
      query,
      headers,
      credential: recordCredential(request.headers),
      body,
      view: parsed?.ok ? parsed.view : undefined,
    };
    requests.push(recorded);
    const seed = seedOf(protocol ?? 'none', bodyText, body);
    const requestId = { 'request-id': `req_offline_${shortHash(`${seed}:${recorded.index}`)}` };
    const fail = (status: number, message: string) =>
      send(
        response,
        {
          status,
          headers: { 'content-type': 'application/json' },
          body: errorBody(protocol ?? 'openai', status, message),
        },
        requestId,
      );

    const batchRequest = { origin: url, contentType: request.headers['content-type'], rawBody, body };
    // Batch plumbing (polls, results, files) is not scripted; creating a batch is, like a model call.
    if (batchRoute && batchRoute.action !== 'create') {
      send(response, await batches.handle(batchRoute, batchRequest, {}), requestId);
      return;
    }
    if (protocol === 'anthropic' && !batchRoute && request.method === 'POST' && parsed && !parsed.ok) {
      fail(400, parsed.problem);
      return;
    }
    const unoffered =
      protocol === 'anthropic' && parsed?.ok ? serverToolRejection(path, parsed.view) : undefined;
    if (unoffered) {
      fail(400, unoffered);
      return;
    }
    // The OpenAI APIs' request rules, before any script decides: a test cannot pass with a request they reject.
    const rejected = protocol === 'openai' && !batchRoute ? openAIRejection(path, body, issued) : undefined;
    if (rejected) {
      const wire = {
        status: 400,
        headers: { 'content-type': 'application/json' },
        body: openAIRejectionBody(rejected),
      };
      send(response, wire, requestId);
      return;
    }
    // A request too large for the model's window is refused before any scripted answer, as live.
    const tooLong = parsed?.ok ? contextWindowError(parsed.view, body) : undefined;
    if (tooLong) {
      send(response, tooLong, requestId);
      return;
    }
    const scripted = await options.script?.(recorded);
    if (scripted?.delayMs) await wait(scripted.delayMs, response);
    if (batchRoute && (scripted === undefined || scripted.kind === 'offline' || scripted.kind === 'batch')) {
      const control = scripted?.kind === 'batch' ? scripted : {};
      send(response, await batches.handle(batchRoute, batchRequest, control), requestId);
      return;
    }
    if (scripted && scripted.kind !== 'offline') {
      const view = recorded.view ?? emptyView(protocol ?? 'openai', bodyText.length);
      const cache = protocol ? cacheFor(scripted, protocol, recorded.view, body) : undefined;
      send(response, renderReply(view, scripted, seed, cache, issued), requestId);
      return;
    }
    if (!protocol || request.method !== 'POST') {
      fail(
        404,
        `The offline model serves POST /v1/messages, /v1/chat/completions and their batch APIs, not ${request.method} ${path}`,
      );
      return;
    }
    if (!parsed?.ok) {
      fail(400, body === undefined ? 'The request body is not JSON' : (parsed?.problem ?? 'invalid request'));
      return;
    }
    const reply = offlineReply(parsed.view, seed);
    const cache = cacheFor(reply, protocol, parsed.view, body);
    send(response, renderReply(parsed.view, reply, seed, cache, issued), {
      ...requestId,
      [OFFLINE_HEADER]: 'true',
    });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      send(
        response,
        {
          status: 500,
          headers: { 'content-type': 'application/json' },
          body: errorBody('openai', 500, `offline model server: ${message}`),
        },
        {},
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  if (options.unref) server.unref();
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    anthropicBaseUrl: url,
    foundryBaseUrl: `${url}/anthropic/`,
    openaiBaseUrl: `${url}/v1`,
    azureOpenAIBaseUrl: `${url}/openai/v1/`,
    requests,
    batchItems,
    promptCache,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
