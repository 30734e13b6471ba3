/**
 * One HTTP request over node:http(s) with a keep-alive agent, its response read whole: the plumbing under
 * the model SDKs' fetch (`src/models/nodeHttpFetch.ts`) and the DurableClient's transport
 * (`src/functions/durableClientTransport.ts`), both of which pass on a whole answer and never stream.
 */
import http from 'node:http';
import https from 'node:https';

export interface KeepAliveAgents {
  readonly 'http:': http.Agent;
  readonly 'https:': https.Agent;
}

export function keepAliveAgents(): KeepAliveAgents {
  return {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };
}

export interface WholeRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly signal?: AbortSignal;
}

export interface WholeResponse {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/**
 * A request failed: the socket's error, marked `reusedSocket` when it went out on a kept-alive connection
 * (one the server closed while idle fails before the server reads it, so the caller may send it again).
 */
export type RequestFailure = Error & { code?: string; reusedSocket?: boolean };

const abortError = () => new DOMException('This operation was aborted', 'AbortError');

/** Sends `request` to `url` (http: or https:) and resolves with the whole response. */
export function requestWhole(
  url: URL,
  request: WholeRequest,
  agents: KeepAliveAgents,
): Promise<WholeResponse> {
  const { signal } = request;
  if (signal?.aborted) return Promise.reject(abortError());
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const outgoing = (secure ? https : http).request(url, {
      method: request.method,
      headers: request.headers,
      agent: secure ? agents['https:'] : agents['http:'],
    });
    const onAbort = () => outgoing.destroy(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal?.removeEventListener('abort', onAbort);
    outgoing.on('error', (error: RequestFailure) => {
      settle();
      error.reusedSocket = outgoing.reusedSocket;
      reject(error);
    });
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => {
        settle();
        reject(error);
      });
      // A connection that drops mid-body ends the response without 'end'; a settled promise ignores this.
      response.on('close', () => {
        if (!response.complete) {
          settle();
          reject(new Error(`the connection closed before the response from ${url.host} ended`));
        }
      });
      response.on('end', () => {
        settle();
        resolve({
          status: response.statusCode ?? 0,
          statusMessage: response.statusMessage ?? '',
          headers: response.headers,
          rawHeaders: response.rawHeaders,
          body: Buffer.concat(chunks),
        });
      });
    });
    outgoing.end(request.body);
  });
}
