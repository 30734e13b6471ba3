import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ContainerAppsPythonSandbox,
  ContainerAppsSessionsClient,
  DYNAMIC_SESSIONS_API_VERSION,
  wrapForSession,
} from '../../../../src/tools/codeExecution/containerAppsSessions.js';
import { createRunCodeTool } from '../../../../src/tools/codeExecution/runCode.js';
import type { CodeSandbox, EffectiveLimits } from '../../../../src/tools/codeExecution/types.js';

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  auth: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

/** A loopback stand-in for a session pool management endpoint (wire shape of api-version 2024-02-02-preview). */
class FakePool {
  server: Server = createServer((req, res) => void this.handle(req, res));
  requests: Recorded[] = [];
  files = new Map<string, Buffer>();
  execute: { status: number; body: unknown; headers?: Record<string, string> } = { status: 200, body: {} };
  endpoint = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.endpoint = `http://127.0.0.1:${port}/subscriptions/sub/resourceGroups/rg/sessionPools/pool`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const prefix = '/subscriptions/sub/resourceGroups/rg/sessionPools/pool/';
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname;
    const body = Buffer.concat(chunks);
    this.requests.push({
      method: req.method ?? '',
      path,
      query: url.searchParams,
      auth: req.headers.authorization,
      contentType: req.headers['content-type'],
      body,
    });
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'POST' && path === 'code/execute') {
      json(this.execute.status, this.execute.body, this.execute.headers);
    } else if (req.method === 'POST' && path === 'files/upload') {
      const text = body.toString('latin1');
      const name = /filename="([^"]+)"/.exec(text)?.[1] ?? 'unknown';
      const start = text.indexOf('\r\n\r\n') + 4;
      const end = text.lastIndexOf('\r\n--');
      this.files.set(name, Buffer.from(text.slice(start, end), 'latin1'));
      json(200, { value: [{ properties: { filename: name, size: end - start, lastModifiedTime: 'now' } }] });
    } else if (req.method === 'GET' && path === 'files') {
      json(200, {
        value: [...this.files].map(([filename, b]) => ({ properties: { filename, size: b.length } })),
      });
    } else if (req.method === 'GET' && path.startsWith('files/content/')) {
      const file = this.files.get(decodeURIComponent(path.slice('files/content/'.length)));
      if (!file) json(404, { error: 'not found' });
      else {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(file);
      }
    } else json(404, { error: `no route ${req.method} ${path}` });
  }
}

const limits: EffectiveLimits = {
  timeoutMs: 4_000,
  memoryMb: 256,
  maxOutputBytes: 2_000,
  maxArtifactBytes: 100_000,
  maxArtifacts: 3,
};
const pool = new FakePool();
let tokenCalls = 0;
const getToken = () => {
  tokenCalls++;
  return Promise.resolve('fake-entra-token');
};
const success = (props: Record<string, unknown>) => ({
  status: 200,
  body: {
    properties: {
      $id: 'x',
      status: 'Success',
      stdout: '',
      stderr: '',
      executionTimeInMilliseconds: 5,
      ...props,
    },
  },
});

beforeAll(() => pool.start());
afterAll(() => new Promise<void>((resolve) => pool.server.close(() => resolve())));
beforeEach(() => {
  pool.requests = [];
  pool.files.clear();
  tokenCalls = 0;
});

function sandbox(): ContainerAppsPythonSandbox {
  let n = 0;
  return new ContainerAppsPythonSandbox({
    endpoint: `${pool.endpoint}/`,
    getToken,
    newSessionId: () => `session-${++n}`,
  });
}

describe('ContainerAppsSessionsClient wire shape', () => {
  it('POSTs inline synchronous code with the api-version, identifier and bearer token', async () => {
    pool.execute = success({ stdout: 'hi\n', result: 3 });
    const client = new ContainerAppsSessionsClient({ endpoint: pool.endpoint, getToken });
    const props = await client.execute('abc', 'print("hi")\n1+2', 5_000);
    expect(props).toMatchObject({ status: 'Success', stdout: 'hi\n', result: 3 });
    const [req] = pool.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('code/execute');
    expect(req?.query.get('api-version')).toBe(DYNAMIC_SESSIONS_API_VERSION);
    expect(req?.query.get('identifier')).toBe('abc');
    expect(req?.auth).toBe('Bearer fake-entra-token');
    expect(req?.contentType).toMatch(/application\/json/);
    expect(JSON.parse(req?.body.toString() ?? '')).toEqual({
      properties: { codeInputType: 'inline', executionType: 'synchronous', code: 'print("hi")\n1+2' },
    });
  });

  it('uploads multipart files, lists and downloads them', async () => {
    const client = new ContainerAppsSessionsClient({ endpoint: pool.endpoint, getToken });
    await client.uploadFile('s1', 'data.csv', Buffer.from('a,b\n1,2\n'), 5_000);
    expect(pool.requests[0]?.contentType).toMatch(/multipart\/form-data/);
    expect(pool.files.get('data.csv')?.toString()).toBe('a,b\n1,2\n');
    expect(await client.listFiles('s1', 5_000)).toEqual([{ filename: 'data.csv', size: 8 }]);
    expect((await client.downloadFile('s1', 'data.csv', 5_000)).toString()).toBe('a,b\n1,2\n');
  });
});

describe('ContainerAppsPythonSandbox', () => {
  it('uses a fresh session per call, uploads inputs and collects out/ files', async () => {
    pool.execute = success({ stdout: 'rows: 1\n', result: { rows: 1 } });
    pool.files.set('run_code_out__summary.csv', Buffer.from('k,v\n'));
    pool.files.set('unrelated.txt', Buffer.from('no'));
    const s = sandbox();
    const out = await s.run({
      code: 'len(rows)',
      files: [{ name: 'data.csv', bytes: Buffer.from('a\n1\n') }],
      limits,
    });
    expect(out).toMatchObject({ ok: true, stdout: 'rows: 1\n', hasResult: true, result: { rows: 1 } });
    expect(out.files.map((f) => [f.name, f.bytes.toString()])).toEqual([['summary.csv', 'k,v\n']]);
    const ids = new Set(pool.requests.map((r) => r.query.get('identifier')));
    expect(ids).toEqual(new Set(['session-1']));
    const exec = pool.requests.find((r) => r.path === 'code/execute');
    const sent = (JSON.parse(exec?.body.toString() ?? '{}') as { properties: { code: string } }).properties
      .code;
    expect(sent).toContain('"len(rows)"');
    expect(sent).toContain('["data.csv"]');
    await s.run({ code: '1', files: [], limits });
    expect(pool.requests.at(-1)?.query.get('identifier')).toBe('session-2');
  });

  it.each([
    [
      'runtime_error',
      {
        status: 'Failure',
        stderr:
          'Traceback (most recent call last):\n  File "main.py", line 1\nZeroDivisionError: division by zero\n',
      },
    ],
    [
      'syntax_error',
      {
        status: 'Failure',
        stderr: '  File "main.py", line 1\n    def f(:\n          ^\nSyntaxError: invalid syntax\n',
      },
    ],
    [
      'timeout',
      {
        status: 'Failure',
        stderr: 'Traceback (most recent call last):\nTimeoutError: run_code time limit of 4 s exceeded\n',
      },
    ],
    ['out_of_memory', { status: 'Failure', stderr: 'Traceback (most recent call last):\nMemoryError\n' }],
    ['output_too_large', { stdout: 'x'.repeat(5_000) }],
  ])('maps a %s response', async (kind, props) => {
    pool.execute = success(props);
    const out = await sandbox().run({ code: 'x', files: [], limits });
    expect(out.ok).toBe(false);
    expect(out.errorKind).toBe(kind);
    expect(Buffer.byteLength(out.stdout) + Buffer.byteLength(out.stderr)).toBeLessThanOrEqual(
      limits.maxOutputBytes,
    );
  });

  it('surfaces HTTP 429 as a retryable rate_limited tool result', async () => {
    pool.execute = { status: 429, body: { error: 'slow down' }, headers: { 'retry-after': '7' } };
    const tool = createRunCodeTool({
      javascript: {} as CodeSandbox,
      python: sandbox(),
      limits: { ...limits, timeoutMs: 10_000 },
      saveArtifact: () => Promise.reject(new Error('unused')),
      loadInputFile: () => Promise.reject(new Error('unused')),
    });
    const result = await tool.handler({
      runId: 'r',
      stepId: 's',
      toolUseId: 't',
      name: 'run_code',
      arguments: { language: 'python', code: 'print(1)' },
    });
    expect(result).toMatchObject({
      isError: true,
      errorKind: 'rate_limited',
      retryable: true,
      retryAfterMs: 7000,
    });
    expect(tokenCalls).toBeGreaterThan(0);
  });

  it('wraps code so the last expression is the cell result and out/ is exported', () => {
    const wrapped = wrapForSession('x = 1\nx + 1', ['in.csv'], 2_500, 5);
    expect(wrapped).toContain('_rc_signal.alarm(3)');
    expect(wrapped.trim().split('\n').at(-1)).toBe('_rc_value');
    expect(wrapped).toContain('"x = 1\\nx + 1"');
  });
});
