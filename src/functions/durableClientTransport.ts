import type { DurableClient } from 'durable-functions';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * How a DurableClient reaches the Durable extension's HTTP API: one plain node:http request per call over
 * keep-alive connections, in place of axios's default transport.
 *
 * Why: the client's calls go to the Functions host on the same machine, and axios's node transport
 * (follow-redirects, its stream plumbing and config merging) cost about an eighth of the worker's CPU on
 * an HTTP start. The extension never redirects, and the client sends no params, auth or streams, so a
 * plain request is all it needs. The client itself is unchanged: it still builds the URLs, sends the
 * same headers and body, and reads the answer through axios's response handling.
 */

/** What an axios adapter receives, as far as this transport reads it (axios is durable-functions' own). */
export interface AxiosAdapterConfig {
  url?: string;
  method?: string;
  headers: { toJSON(): Record<string, unknown> };
  data?: unknown;
  timeout?: number;
  validateStatus?: ((status: number) => boolean) | null;
}

export interface AxiosAdapterResponse {
  data: string;
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  config: AxiosAdapterConfig;
  request: unknown;
}

const agents = {
  http: new HttpAgent({ keepAlive: true }),
  https: new HttpsAgent({ keepAlive: true }),
};

function requestHeaders(config: AxiosAdapterConfig, body: string | Buffer | undefined) {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(config.headers.toJSON())) {
    if (typeof value === 'string' || typeof value === 'number') headers[name] = String(value);
    else if (Array.isArray(value)) headers[name] = value.map(String);
  }
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  return headers;
}

function requestBody(data: unknown): string | Buffer | undefined {
  if (data === undefined || data === null) return undefined;
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  // axios has already serialized JSON bodies; anything else is a call this transport was not made for.
  throw new TypeError(`The durable client transport sends string or Buffer bodies, not ${typeof data}.`);
}

/** An axios adapter: sends the request, resolves with the raw text for axios to parse as it always does. */
export function durableClientAdapter(config: AxiosAdapterConfig): Promise<AxiosAdapterResponse> {
  const url = new URL(config.url ?? '');
  const body = requestBody(config.data);
  return send(config, url, body).catch((error: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
    // A kept-alive connection the host closed while idle fails before the host reads the request: once
    // more on a new connection, as Node's documentation advises.
    if (error.reusedSocket === true && error.code === 'ECONNRESET') return send(config, url, body);
    throw error;
  });
}

function send(
  config: AxiosAdapterConfig,
  url: URL,
  body: string | Buffer | undefined,
): Promise<AxiosAdapterResponse> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    const request = (https ? httpsRequest : httpRequest)(
      url,
      {
        method: (config.method ?? 'get').toUpperCase(),
        headers: requestHeaders(config, body),
        agent: https ? agents.https : agents.http,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => reject(unanswered(url, error)));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (config.validateStatus && !config.validateStatus(status))
            return reject(
              new Error(`The Durable Functions extension at ${url.origin} answered HTTP ${status}.`),
            );
          resolve({
            data: Buffer.concat(chunks).toString('utf8'),
            status,
            statusText: response.statusMessage ?? '',
            headers: response.headers,
            config,
            request,
          });
        });
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      reject(Object.assign(unanswered(url, error), { code: error.code, reusedSocket: request.reusedSocket })),
    );
    if (config.timeout) {
      const timeout = config.timeout;
      request.setTimeout(timeout, () => request.destroy(new Error(`no answer within ${timeout} ms`)));
    }
    request.end(body);
  });
}

/** The query carries the extension's system key, so the error names the endpoint by its origin only. */
const unanswered = (url: URL, cause: Error) =>
  new Error(`The Durable Functions extension at ${url.origin} did not answer: ${cause.message}`);

/**
 * Puts `durableClientAdapter` under a client built by `df.getClient`. The library keeps its axios instance
 * in an undocumented field: if a release moves it, the client keeps axios's own transport (slower, same
 * results) and this returns false, which the tests check against the pinned version.
 */
export function useDurableClientAdapter(client: DurableClient): boolean {
  const axios = (client as unknown as { axiosInstance?: { defaults?: { adapter?: unknown } } }).axiosInstance;
  if (axios?.defaults === undefined) return false;
  axios.defaults.adapter = durableClientAdapter;
  return true;
}
