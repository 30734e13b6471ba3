import type { DurableClient } from 'durable-functions';
import type { IncomingHttpHeaders } from 'node:http';
import {
  keepAliveAgents,
  requestWhole,
  type RequestFailure,
  type WholeRequest,
} from '../http/requestWhole.js';

/**
 * How a DurableClient reaches the Durable extension's HTTP API: plain node:http requests over keep-alive
 * connections, in place of the axios instance the library builds for each client.
 *
 * Why: the client's calls go to the Functions host on the same machine, and axios (config merging, header
 * objects, follow-redirects and its stream plumbing) took over a tenth of the language worker's CPU during
 * a burst of HTTP starts. The client uses three of its methods, with the behaviour reproduced here: every
 * status below 600 resolves (the client reads the status itself), JSON answers are parsed and anything
 * else is kept as text, and bodies are sent as axios sends them. The calls go to the host's local RPC
 * endpoint (`rpcBaseUrl`), which never redirects and is never reached through a proxy, so neither is
 * followed or read from the environment. The client itself is unchanged: it still builds the URLs, headers
 * and bodies and reads the answers.
 */

/** What a DurableClient of durable-functions 3.x uses of its axios instance. */
export interface DurableClientHttp {
  get(url: string, config?: RequestConfig): Promise<HttpAnswer>;
  post(url: string, data?: unknown, config?: RequestConfig): Promise<HttpAnswer>;
  delete(url: string, config?: RequestConfig): Promise<HttpAnswer>;
}

export interface RequestConfig {
  headers?: Record<string, string>;
  /** Not used by the library; the app's own management reads (src/operator/durableManagement.ts) time out with it. */
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  statusText: string;
  /** Parsed JSON, or the text when the answer is not JSON ('' for none), as axios gives it. */
  data: unknown;
  headers: IncomingHttpHeaders;
}

const agents = keepAliveAgents();
/** The headers the library's axios instance sends by default. */
const ACCEPT = 'application/json, text/plain, */*';

/** A request body as axios sends a JSON-typed one: JSON text as is, anything else serialized. */
function jsonBody(data: unknown): string | undefined {
  if (data === undefined) return undefined;
  if (typeof data === 'string') {
    try {
      JSON.parse(data);
      return data.trim();
    } catch {
      // Not JSON text: axios sends the string as a JSON string.
    }
  }
  return JSON.stringify(data);
}

function answerData(text: string): unknown {
  if (text === '') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** One request; a kept-alive connection the host closed while idle is retried once on a new one. */
async function send(
  method: string,
  url: string,
  body: string | undefined,
  extraHeaders: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  const target = new URL(url);
  const headers: Record<string, string> = { Accept: ACCEPT, ...extraHeaders };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(body));
  } else if (method !== 'GET') headers['Content-Length'] = '0';
  const request: WholeRequest = {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    ...(signal === undefined ? {} : { signal }),
  };
  const response = await requestWhole(target, request, agents)
    .catch((error: RequestFailure) => {
      // Such a connection fails before the host reads the request: Node's documentation advises one retry.
      if (error.reusedSocket === true && error.code === 'ECONNRESET')
        return requestWhole(target, request, agents);
      throw error;
    })
    .catch((error: Error) => {
      // The query carries the extension's system key, so the error names the endpoint by its origin only.
      throw new Error(`The Durable Functions extension at ${target.origin} did not answer: ${error.message}`);
    });
  if (response.status >= 600)
    throw new Error(`The Durable Functions extension at ${target.origin} answered HTTP ${response.status}.`);
  return {
    status: response.status,
    statusText: response.statusMessage,
    data: answerData(response.body.toString('utf8')),
    headers: response.headers,
  };
}

export const durableClientHttp: DurableClientHttp = {
  get: (url, config) => send('GET', url, undefined, config?.headers, config?.signal),
  post: (url, data, config) => send('POST', url, jsonBody(data), config?.headers, config?.signal),
  delete: (url, config) => send('DELETE', url, undefined, config?.headers, config?.signal),
};

/**
 * Puts `durableClientHttp` in place of the axios instance of a client built by `df.getClient`. The
 * library keeps that instance in an undocumented field: if a release moves or renames it, the client
 * keeps axios (slower, same results) and this returns false, which the tests check against the pinned
 * version.
 */
export function useDurableClientHttp(client: DurableClient): boolean {
  const fields = client as unknown as { axiosInstance?: unknown };
  const current = fields.axiosInstance as Partial<DurableClientHttp> | undefined;
  const looksLikeAxios =
    typeof current?.get === 'function' &&
    typeof current.post === 'function' &&
    typeof current.delete === 'function';
  if (!looksLikeAxios) return false;
  fields.axiosInstance = durableClientHttp;
  return true;
}
