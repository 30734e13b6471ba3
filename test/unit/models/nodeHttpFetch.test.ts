import Anthropic, { APIConnectionError, APIConnectionTimeoutError } from '@anthropic-ai/sdk';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeHttpFetch } from '../../../src/models/nodeHttpFetch.js';
import { startOfflineModelServer, type OfflineModelServer } from '../../../src/offline/offlineModelServer.js';

/** The model SDKs' transport over node:http, against a loopback server that records what it got. */
interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base = '';
const received: Received[] = [];
const routes: Record<string, (response: ServerResponse) => void> = {
  '/json': (response) => {
    response.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'req-1' });
    response.end(JSON.stringify({ ok: true }));
  },
  '/gzip': (response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    response.end(gzipSync(JSON.stringify({ compressed: true })));
  },
  '/empty': (response) => {
    response.writeHead(204);
    response.end();
  },
  '/cut': (response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    response.write('{"partial":');
    setTimeout(() => response.socket?.destroy(), 10);
  },
  '/never': () => {
    // Never answers: the caller's signal has to end it.
  },
};

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = request.url ?? '/';
      received.push({
        method: request.method ?? '',
        url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      routes[url.split('?')[0] ?? '']?.(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const nodeFetch = createNodeHttpFetch();
const last = () => received.at(-1) as Received;

describe('createNodeHttpFetch', () => {
  it('sends method, path, query, headers and body, and answers as fetch does', async () => {
    const body = JSON.stringify({ prompt: 'héllo' });
    const response = await nodeFetch(`${base}/json?api-version=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
      body,
    });
    expect(last()).toMatchObject({ method: 'POST', url: '/json?api-version=1', body });
    expect(last().headers).toMatchObject({
      'content-type': 'application/json',
      'x-api-key': 'k',
      'content-length': String(Buffer.byteLength(body)),
    });
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.url).toBe(`${base}/json?api-version=1`);
    expect(response.headers.get('x-request-id')).toBe('req-1');
    expect(await response.json()).toEqual({ ok: true });
  });

  it('reuses connections (keep-alive)', async () => {
    await nodeFetch(`${base}/json`);
    await nodeFetch(`${base}/json`);
    expect(last().headers.connection).toBe('keep-alive');
  });

  it('decodes a gzip body and drops the encoding headers', async () => {
    const response = await nodeFetch(`${base}/gzip`);
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(await response.json()).toEqual({ compressed: true });
  });

  it('gives a 204 a null body', async () => {
    const response = await nodeFetch(`${base}/empty`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it('rejects with an AbortError when the signal aborts, before or during the request', async () => {
    const before = received.length;
    await expect(nodeFetch(`${base}/json`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(received).toHaveLength(before);
    const controller = new AbortController();
    const pending = nodeFetch(`${base}/never`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects (never hangs) when the connection drops in the middle of a body', async () => {
    await expect(nodeFetch(`${base}/cut`)).rejects.toThrow(/aborted|closed before the response/);
  });

  it('rejects with the socket error when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(nodeFetch(`http://127.0.0.1:${port}/json`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('hands bodies it does not send itself (multipart uploads) to the built-in fetch', async () => {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob(['{"a":1}\n'], { type: 'application/jsonl' }), 'batch.jsonl');
    const response = await nodeFetch(`${base}/json`, { method: 'POST', body: form });
    expect(response.status).toBe(201);
    expect(last().headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(last().body).toContain('{"a":1}');
  });
});

describe('the model SDKs over createNodeHttpFetch', () => {
  let model: OfflineModelServer;
  beforeAll(async () => {
    model = await startOfflineModelServer({
      script: (request) =>
        JSON.stringify(request.body).includes('slow')
          ? { kind: 'text', text: 'late', delayMs: 2_000 }
          : { kind: 'text', text: 'hello over node:http' },
    });
  });
  afterAll(() => model.stop());

  it('Claude and GPT answers arrive, and a timeout is the SDK timeout error', async () => {
    const claude = new Anthropic({
      baseURL: model.anthropicBaseUrl,
      apiKey: 'k',
      fetch: nodeFetch,
      maxRetries: 0,
      timeout: 300,
    });
    const answer = await claude.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer.content).toEqual([expect.objectContaining({ type: 'text', text: 'hello over node:http' })]);

    const gpt = new OpenAI({ baseURL: model.openaiBaseUrl, apiKey: 'k', fetch: nodeFetch, maxRetries: 0 });
    const completion = await gpt.chat.completions.create({
      model: 'gpt-5.4',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe('hello over node:http');

    const late = claude.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'slow' }],
    });
    await expect(late).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    await expect(late).rejects.toBeInstanceOf(APIConnectionError);
  });
});
