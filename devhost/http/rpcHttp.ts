import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { TypedData } from '../functions/types.js';

/**
 * Builds the trigger value the Functions host sends to the Node worker for an HTTP request
 * (RpcHttpData). The raw bytes go in `body.bytes`: the library's HttpRequest builds a fetch
 * Request from them, so json()/text()/arrayBuffer() all see the exact payload.
 */
export function toRpcHttpTrigger(input: {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  params: Record<string, string>;
  body: Buffer;
}): TypedData {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  const query: Record<string, string> = {};
  for (const key of new Set(input.query.keys())) query[key] = input.query.getAll(key).join(',');
  const http: Record<string, unknown> = {
    method: input.method,
    url: input.url,
    headers,
    query,
    params: input.params,
  };
  if (input.body.length > 0) http.body = { bytes: new Uint8Array(input.body) };
  return { http };
}

/** Trigger metadata the host sends alongside (the library ignores it for HTTP, other tools may not). */
export function httpTriggerMetadata(
  trigger: TypedData,
  params: Record<string, string>,
): Record<string, TypedData> {
  const http = trigger && 'http' in trigger ? trigger.http : {};
  const meta: Record<string, TypedData> = {
    Query: { json: JSON.stringify(http.query ?? {}) },
    Headers: { json: JSON.stringify(http.headers ?? {}) },
  };
  for (const [name, value] of Object.entries(params)) meta[name] = { string: value };
  return meta;
}

interface RpcNullable<T> {
  value?: T;
}
interface RpcCookie {
  name?: string;
  value?: string;
  domain?: RpcNullable<string>;
  path?: RpcNullable<string>;
  expires?: RpcNullable<{ seconds?: number | string }>;
  secure?: RpcNullable<boolean>;
  httpOnly?: RpcNullable<boolean>;
  sameSite?: string;
  maxAge?: RpcNullable<number>;
}

function serializeCookie(c: RpcCookie): string {
  const parts = [`${c.name ?? ''}=${c.value ?? ''}`];
  if (c.domain?.value) parts.push(`Domain=${c.domain.value}`);
  if (c.path?.value) parts.push(`Path=${c.path.value}`);
  const seconds = c.expires?.value?.seconds;
  if (seconds !== undefined) parts.push(`Expires=${new Date(Number(seconds) * 1000).toUTCString()}`);
  if (c.maxAge?.value !== undefined) parts.push(`Max-Age=${Math.trunc(c.maxAge.value)}`);
  if (c.secure?.value) parts.push('Secure');
  if (c.httpOnly?.value) parts.push('HttpOnly');
  const sameSite = { lax: 'Lax', strict: 'Strict', explicitNone: 'None' }[c.sameSite ?? ''];
  if (sameSite) parts.push(`SameSite=${sameSite}`);
  return parts.join('; ');
}

function bodyBytes(body: unknown): Buffer {
  if (!body || typeof body !== 'object') return Buffer.alloc(0);
  const b = body as Record<string, unknown>;
  if (b.bytes instanceof Uint8Array)
    return Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
  if (typeof b.string === 'string') return Buffer.from(b.string, 'utf8');
  if (typeof b.json === 'string') return Buffer.from(b.json, 'utf8');
  if (typeof b.int === 'number' || typeof b.double === 'number')
    return Buffer.from(String(b.int ?? b.double));
  return Buffer.alloc(0);
}

export interface PlainResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/**
 * The `$return` binding of an HTTP function as a plain response. Throws when the function produced
 * something the host cannot send (bad status, header with CR/LF); the caller answers 500.
 */
export function fromRpcHttpResponse(returnValue: TypedData | null): PlainResponse {
  // The Functions host answers 204 when an HTTP function returns nothing.
  if (returnValue === undefined || returnValue === null)
    return { status: 204, headers: {}, body: Buffer.alloc(0) };
  if (!('http' in returnValue)) {
    const isJson = 'json' in returnValue;
    return {
      status: 200,
      headers: { 'content-type': isJson ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8' },
      body: bodyBytes(returnValue),
    };
  }
  const http = returnValue.http;
  const statusText = http.statusCode;
  const status =
    statusText === undefined || statusText === null || statusText === '' ? 200 : Number(statusText);
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new Error(`The function returned an invalid HTTP status code '${String(statusText)}'.`);
  }
  const headers: Record<string, string | string[]> = {};
  const rawHeaders = (http.headers ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(rawHeaders)) {
    if (value === undefined || value === null) continue;
    headers[name.toLowerCase()] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const cookies = Array.isArray(http.cookies) ? (http.cookies as RpcCookie[]).map(serializeCookie) : [];
  if (cookies.length) {
    const existing = headers['set-cookie'];
    headers['set-cookie'] = [...(existing === undefined ? [] : [existing].flat()), ...cookies];
  }
  return { status, headers, body: bodyBytes(http.body) };
}

/** Writes a plain response; validates headers first so a bad one surfaces as a throw, not a half-sent reply. */
export function writePlainResponse(res: ServerResponse, response: PlainResponse, isHead: boolean): void {
  const noBody = isHead || response.status === 204 || response.status === 304 || response.status < 200;
  const headers: Record<string, string | string[]> = { ...response.headers };
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  if (!noBody || isHead) headers['content-length'] = String(response.body.length);
  res.writeHead(response.status, headers);
  res.end(noBody ? undefined : response.body);
}
