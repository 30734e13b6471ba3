import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { DurableBackend } from '../durable/backend.js';
import {
  advertisedWebhookOrigin,
  buildDurableClientPayload,
  setWebsiteHostname,
  type DurableClientBindingPayload,
} from '../durable/bindingPayload.js';
import { DurableHttpApi, type DurableApiResponse } from '../durable/clientApi.js';
import type { FunctionInvoker, TypedData } from '../functions/types.js';
import { compileFunctionRoutes, findRoute, listHttpRoutes, type RouteInfo } from './functionRoutes.js';
import { isAuthorized, isSystemKeyAuthorized, presentedKey, type HostKeys } from './keys.js';
import { splitPath } from './routeTemplate.js';
import { fromRpcHttpResponse, httpTriggerMetadata, toRpcHttpTrigger, writePlainResponse } from './rpcHttp.js';

export interface DevHostServerOptions {
  port: number;
  host?: string;
  routePrefix: string;
  invoker: FunctionInvoker;
  backend: DurableBackend;
  keys: HostKeys;
  log: (line: string) => void;
  /** Default 100 MB, the Functions host's maxRequestBodySize. */
  maxRequestBodyBytes?: number;
  /** Builds the durableClient binding value for these origins (default: buildDurableClientPayload). */
  durableClientPayload?: (origins: PayloadOrigins) => DurableClientBindingPayload;
  /**
   * The origin of the binding's webhook links (statusQueryGetUri…), the app's public origin in Azure.
   * Default `advertisedWebhookOrigin(port)`, which the app cannot reach, so a self-call fails in tests;
   * `'listener'` puts the listener's own origin there.
   */
  webhookOrigin?: string;
  /** Set process.env.WEBSITE_HOSTNAME to the webhook origin's host (default true); see bindingPayload.ts. */
  setWebsiteHostname?: boolean;
}

export interface PayloadOrigins {
  /** Where the webhook links point: the advertised origin. */
  webhookOrigin: string;
  /** The listener, where rpcBaseUrl points. */
  rpcOrigin: string;
}

export interface DevHostServer {
  url: string;
  /** The origin of the binding's webhook links (not served there unless it is `url`). */
  webhookOrigin: string;
  port: number;
  routes: RouteInfo[];
  /** The durableClient binding value every trigger kind should hand to the app. */
  durableClientPayload: DurableClientBindingPayload;
  close(): Promise<void>;
}

export const DEFAULT_MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024;

type BodyResult = { kind: 'ok'; body: Buffer } | { kind: 'tooLarge' } | { kind: 'aborted' };

function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: 'tooLarge' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult): void => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        req.pause();
        finish({ kind: 'tooLarge' });
      } else chunks.push(chunk);
    });
    req.on('end', () => finish({ kind: 'ok', body: Buffer.concat(chunks) }));
    req.on('error', () => finish({ kind: 'aborted' }));
    req.on('close', () => finish({ kind: 'aborted' }));
  });
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

/**
 * The host's own error answers (routing, keys, body limits, a failing function) as RFC 9457 problem details:
 * `type` about:blank with the status phrase as `title` (https://www.rfc-editor.org/rfc/rfc9457#section-4.2.1)
 * and what went wrong in `detail`. The Durable HTTP API's answers keep the extension's own shapes.
 */
export function problemBody(status: number, detail: string): string {
  return JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail });
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

function sendProblem(
  res: ServerResponse,
  status: number,
  detail: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = problemBody(status, detail);
  res.writeHead(status, {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendDurable(res: ServerResponse, response: DurableApiResponse): void {
  const body = response.body ?? '';
  res.writeHead(response.status, { ...response.headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export async function startHttpServer(opts: DevHostServerOptions): Promise<DevHostServer> {
  const host = opts.host ?? '127.0.0.1';
  const limit = opts.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  const routePrefix = opts.routePrefix.replace(/^\/+|\/+$/g, '');
  const prefixSegments = routePrefix === '' ? [] : routePrefix.split('/').map((s) => s.toLowerCase());
  const routes = compileFunctionRoutes(opts.invoker);
  const durableApi = new DurableHttpApi({
    backend: opts.backend,
    systemKey: opts.keys.systemKeys.durabletask_extension,
  });
  let origin = '';
  const clientBinding: { value: TypedData } = { value: undefined };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
    let url: URL;
    let segments: string[];
    try {
      url = new URL(req.url ?? '/', origin);
      if (!(req.url ?? '/').startsWith('/')) throw new Error('absolute-form request target');
      segments = splitPath(url.pathname);
    } catch {
      sendProblem(res, 400, 'Malformed request URL or percent-encoding.');
      return undefined;
    }
    // Links handed back to the caller use the origin it addressed, as the real host does.
    let clientUrl = url;
    try {
      if (req.headers.host) clientUrl = new URL(req.url ?? '/', `http://${req.headers.host}`);
    } catch {
      clientUrl = url;
    }
    const lower = segments.map((s) => s.toLowerCase());
    const method = (req.method ?? 'GET').toUpperCase();

    const isWebhook = lower[0] === 'runtime' && lower[1] === 'webhooks' && lower[2] === 'durabletask';
    const isRpc = lower[0] === 'durabletask';
    if (isWebhook || isRpc) {
      if (isRpc && !isLoopback(req.socket.remoteAddress)) {
        sendProblem(res, 403, 'The Durable RPC endpoint only answers loopback callers.');
        return undefined;
      }
      if (isWebhook && !isSystemKeyAuthorized(presentedKey(req.headers, url.searchParams), opts.keys)) {
        sendProblem(
          res,
          401,
          'The Durable webhook API needs the durabletask_extension system key (or the master key) in the code query parameter or x-functions-key header.',
        );
        return undefined;
      }
      const body = await readBody(req, limit);
      if (!respondToBodyProblem(res, body)) return undefined;
      const controller = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) controller.abort();
      });
      const response = await durableApi.handle({
        method,
        segments: segments.slice(isWebhook ? 3 : 1),
        query: url.searchParams,
        headers: req.headers,
        body: body.kind === 'ok' ? body.body : Buffer.alloc(0),
        url: clientUrl,
        signal: controller.signal,
      });
      sendDurable(res, response);
      return 'durable';
    }

    const underPrefix = prefixSegments.every((p, i) => lower[i] === p);
    const lookup = underPrefix
      ? findRoute(routes, segments.slice(prefixSegments.length), method)
      : { kind: 'none' as const };
    if (lookup.kind === 'none') {
      sendProblem(res, 404, `No function matches ${method} ${url.pathname}.`);
      return undefined;
    }
    if (lookup.kind === 'methodNotAllowed') {
      sendProblem(res, 405, `${method} is not allowed here; use ${lookup.allow.join(', ')}.`, {
        allow: lookup.allow.join(', '),
      });
      return undefined;
    }
    const { route, params } = lookup;
    if (!isAuthorized(route.authLevel, presentedKey(req.headers, url.searchParams), opts.keys)) {
      const which = route.authLevel === 'admin' ? 'the master key' : 'a function key or the master key';
      sendProblem(
        res,
        401,
        `Function '${route.functionName}' needs ${which} in the code query parameter or x-functions-key header.`,
      );
      return route.functionName;
    }
    const body = await readBody(req, limit);
    if (!respondToBodyProblem(res, body)) return route.functionName;
    const trigger = toRpcHttpTrigger({
      method,
      url: clientUrl.href,
      headers: req.headers,
      query: url.searchParams,
      params,
      body: body.kind === 'ok' ? body.body : Buffer.alloc(0),
    });
    const extraInputs = Object.fromEntries(
      route.durableClientBindings.map((name) => [name, clientBinding.value]),
    );
    let output;
    try {
      output = await opts.invoker.invoke(route.functionName, {
        trigger,
        extraInputs,
        triggerMetadata: httpTriggerMetadata(trigger, params),
      });
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      opts.log(`Function '${route.functionName}' failed: ${err.stack ?? err.message}`);
      sendProblem(res, 500, `Function '${route.functionName}' failed: ${err.message}`);
      return route.functionName;
    }
    try {
      writePlainResponse(res, fromRpcHttpResponse(output.returnValue ?? undefined), method === 'HEAD');
    } catch (error) {
      opts.log(
        `Function '${route.functionName}' returned an unusable HTTP response: ${(error as Error).message}`,
      );
      sendProblem(
        res,
        500,
        `Function '${route.functionName}' returned an invalid HTTP response: ${(error as Error).message}`,
      );
    }
    return route.functionName;
  }

  function respondToBodyProblem(res: ServerResponse, body: BodyResult): boolean {
    if (body.kind === 'ok') return true;
    if (body.kind === 'tooLarge') {
      sendProblem(res, 413, `Request body larger than ${limit} bytes.`, { connection: 'close' });
      res.on('finish', () => res.req.destroy());
    }
    return false;
  }

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0];
    let target: string | undefined;
    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const status = res.writableFinished ? String(res.statusCode) : 'aborted';
      opts.log(`${req.method} ${path} ${status} ${ms.toFixed(1)}ms${target ? ` (${target})` : ''}`);
    });
    handle(req, res).then(
      (t) => (target = t),
      (error: unknown) => {
        opts.log(
          `Unhandled error for ${req.method} ${path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        if (!res.headersSent) sendProblem(res, 500, 'Something went wrong while processing your request.');
        else res.destroy();
      },
    );
  });
  // A client that half-closes after sending its request (shutdown of its write side, as `nc -N` does) still
  // gets its answer; HTTP/1.1 closes are per direction (RFC 9112 section 9.6). Node's default ends such a
  // socket on the client's FIN, so the function ran (a run started) and its answer was lost.
  // `httpAllowHalfOpen` is the switch node's http server reads on FIN (socketOnEnd in lib/_http_server.js);
  // pinned by test/devhost/httpServer.test.ts.
  (server as typeof server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const tooBig = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooBig ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = problemBody(
      tooBig ? 431 : 400,
      tooBig ? 'Request headers too large.' : 'Malformed HTTP request.',
    );
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') return reject(error);
      reject(
        new Error(
          `Port ${opts.port} on ${host} is already in use (another devhost or func start?). ` +
            `Stop it, or choose another port: --port <n> (npm start -- --port <n>; 'port' in the API; 0 picks a free one).`,
          { cause: error },
        ),
      );
    });
    server.listen(opts.port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const publicHost = wildcard ? '127.0.0.1' : host;
  origin = `http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${port}`;
  const webhookOrigin =
    opts.webhookOrigin === 'listener' ? origin : (opts.webhookOrigin ?? advertisedWebhookOrigin(port));
  if (opts.setWebsiteHostname !== false) setWebsiteHostname(webhookOrigin);
  const payload = opts.durableClientPayload
    ? opts.durableClientPayload({ webhookOrigin, rpcOrigin: origin })
    : buildDurableClientPayload({
        origin: webhookOrigin,
        rpcOrigin: origin,
        taskHubName: opts.backend.taskHubName,
        systemKey: opts.keys.systemKeys.durabletask_extension,
      });
  clientBinding.value = { json: JSON.stringify(payload) };

  return {
    url: origin,
    webhookOrigin,
    port,
    routes: listHttpRoutes(opts.invoker, routePrefix, origin),
    durableClientPayload: payload,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export { listHttpRoutes, formatRoutes, type RouteInfo } from './functionRoutes.js';
