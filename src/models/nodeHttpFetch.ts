/**
 * A `fetch` for the model SDKs over node:http and node:https with keep-alive agents.
 *
 * The SDKs take any fetch. Node's built-in one (undici and web streams) costs about 0.3 ms more CPU per
 * model call and several more event-loop turns, and a language worker busy with episodes feels every
 * extra turn as latency on every call in flight. Each response is read whole before it is handed back,
 * which suits this app's calls (none streams), and redirects are not followed (model APIs answer where
 * they are asked). Request bodies other than text or bytes (the multipart upload of an Azure OpenAI batch
 * file) go to the built-in fetch. `MODEL_HTTP_CLIENT=fetch` turns this client off.
 */
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const decoders: Readonly<Record<string, (body: Buffer) => Promise<Buffer>>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};

/** Statuses whose responses carry no body, by the Fetch standard. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

const abortError = () => new DOMException('This operation was aborted', 'AbortError');

function requestBody(body: RequestInit['body']): string | Uint8Array | undefined | false {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return false;
}

async function decoded(body: Buffer, encoding: string | undefined): Promise<Buffer> {
  if (encoding === undefined || encoding === 'identity') return body;
  const decode = decoders[encoding.trim().toLowerCase()];
  if (decode === undefined)
    throw new TypeError(`unsupported content-encoding "${encoding}" in a model response`);
  return decode(body);
}

export function createNodeHttpFetch(): typeof globalThis.fetch {
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };

  return function nodeHttpFetch(input, init = {}) {
    const body = requestBody(init.body);
    const isPlainUrl = typeof input === 'string' || input instanceof URL;
    const url = isPlainUrl ? new URL(input) : undefined;
    if (body === false || url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      return globalThis.fetch(input, init);
    }
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortError());

    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));

    return new Promise<Response>((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http;
      const request = transport.request(url, {
        method: init.method ?? 'GET',
        headers,
        agent: agents[url.protocol as 'http:' | 'https:'],
      });
      const onAbort = () => request.destroy(abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal?.removeEventListener('abort', onAbort);
      request.on('error', (error) => {
        settle();
        reject(error);
      });
      request.on('response', (response) => {
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
          const status = response.statusCode ?? 0;
          const responseHeaders = new Headers();
          const raw = response.rawHeaders;
          for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i] ?? '', raw[i + 1] ?? '');
          const encoding = response.headers['content-encoding'];
          decoded(Buffer.concat(chunks), encoding).then((content) => {
            if (encoding !== undefined) {
              responseHeaders.delete('content-encoding');
              responseHeaders.delete('content-length');
            }
            const hasBody = !NULL_BODY_STATUSES.has(status) && init.method !== 'HEAD';
            const answer = new Response(hasBody ? content : null, {
              status,
              statusText: response.statusMessage ?? '',
              headers: responseHeaders,
            });
            // The SDKs name the URL in their errors and debug logs.
            Object.defineProperty(answer, 'url', { value: url.href });
            resolve(answer);
          }, reject);
        });
      });
      request.end(body);
    });
  };
}
