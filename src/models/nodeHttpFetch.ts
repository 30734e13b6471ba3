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
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { keepAliveAgents, requestWhole } from '../http/requestWhole.js';

const decoders: Readonly<Record<string, (body: Buffer) => Promise<Buffer>>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};

/** Statuses whose responses carry no body, by the Fetch standard. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

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
  const agents = keepAliveAgents();

  return async function nodeHttpFetch(input, init = {}) {
    const body = requestBody(init.body);
    const isPlainUrl = typeof input === 'string' || input instanceof URL;
    const url = isPlainUrl ? new URL(input) : undefined;
    if (body === false || url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      return globalThis.fetch(input, init);
    }
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));

    const method = init.method ?? 'GET';
    const response = await requestWhole(
      url,
      {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(init.signal ? { signal: init.signal } : {}),
      },
      agents,
    );
    const responseHeaders = new Headers();
    const raw = response.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i] ?? '', raw[i + 1] ?? '');
    const encoding = response.headers['content-encoding'];
    const content = await decoded(response.body, encoding);
    if (encoding !== undefined) {
      responseHeaders.delete('content-encoding');
      responseHeaders.delete('content-length');
    }
    const hasBody = !NULL_BODY_STATUSES.has(response.status) && method !== 'HEAD';
    const answer = new Response(hasBody ? content : null, {
      status: response.status,
      statusText: response.statusMessage,
      headers: responseHeaders,
    });
    // The SDKs name the URL in their errors and debug logs.
    Object.defineProperty(answer, 'url', { value: url.href });
    return answer;
  };
}
