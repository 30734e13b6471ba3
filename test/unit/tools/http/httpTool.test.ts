import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUrlPolicy, parseAllowHosts } from '../../../../src/net/urlPolicy.js';
import type { ToolCallResult } from '../../../../src/shared/toolTypes.js';
import { createHttpTool } from '../../../../src/tools/http/httpTool.js';
import { parseHttpTool } from '../../../../src/tools/http/loadHttpTools.js';

const KEY = 'crm-key-0123456789-secret';
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.token-for-tests';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let seen: Seen[] = [];
let answer: (request: Seen) => { status: number; body: string; headers?: Record<string, string> };
let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(entry);
      const { status, body, headers } = answer(entry);
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  answer = () => ({ status: 200, body: JSON.stringify({ customers: [{ id: 7, name: 'Ada' }], total: 1 }) });
});

function toolFile(extra = '', url = `http://127.0.0.1:PORT/api/customers?email={{ args.email }}`) {
  return `name: crm_lookup
description: Find a customer by email address.
input:
  type: object
  required: [email]
  properties:
    email: { type: string, minLength: 3 }
    note: { type: string }
url: "${url.replace('PORT', String(port))}"
headers:
  X-Request-Id: "{{ call.runId }}/{{ call.toolUseId }}"
${extra}`;
}

const KEY_AUTH = `auth: { type: key, setting: CRM_API_KEY, header: Authorization, prefix: "Key " }\n`;

function build(
  text: string,
  options: { allow?: string; tokenFor?: (scope: string) => Promise<string> } = {},
) {
  const { tool, errors } = parseHttpTool(text, 'tools/crm_lookup.yaml', { env: { CRM_API_KEY: KEY } });
  expect(errors).toEqual([]);
  const scopes: string[] = [];
  const built = createHttpTool(tool!, {
    env: { CRM_API_KEY: KEY },
    urlPolicy: createUrlPolicy({ allowHosts: parseAllowHosts(options.allow ?? '127.0.0.1').allowHosts }),
    tokenFor:
      options.tokenFor ??
      ((scope) => {
        scopes.push(scope);
        return Promise.resolve(TOKEN);
      }),
  });
  const call = (args: Record<string, unknown>, limits?: Record<string, number>) =>
    built.handler({
      runId: 'run-1',
      stepId: 'lookup',
      toolUseId: 'toolu_9',
      name: 'crm_lookup',
      arguments: args,
      ...(limits ? { limits } : {}),
    });
  return { call, scopes, spec: built.spec };
}

const noSecrets = (result: ToolCallResult) => {
  const text = JSON.stringify(result);
  expect(text).not.toContain(KEY);
  expect(text).not.toContain(TOKEN);
};

describe('an HTTP tool', () => {
  it('sends the rendered request with URL-encoded values, the key, and returns the extracted answer', async () => {
    const { call, spec } = build(toolFile(`${KEY_AUTH}extract: response.customers[0]\n`));
    expect(spec.inputSchema).toMatchObject({ type: 'object', required: ['email'] });
    const result = await call({ email: 'a b&c=d/e@x.com#f' });
    expect(result).toMatchObject({ isError: false, data: { status: 200 } });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'GET',
      url: '/api/customers?email=a%20b%26c%3Dd%2Fe%40x.com%23f',
      headers: { authorization: `Key ${KEY}`, 'x-request-id': 'run-1/toolu_9' },
    });
    expect(result.content).toContain('crm_lookup answered HTTP 200.');
    expect(result.content).toContain('"name": "Ada"');
    expect(result.content).not.toContain('total');
    expect(result.content).toContain('<untrusted_content source="crm_lookup">');
    noSecrets(result);
  });

  it('POSTs a JSON body whose exact {{ }} strings keep their type, with a managed-identity token', async () => {
    const text = toolFile(
      `method: POST
body:
  query: { email: "{{ args.email }}", tags: ["vip", "{{ size(args.email) }}"] }
  count: "{{ size(args.email) }}"
  label: "for {{ args.email }}"
auth: { type: managed-identity, scope: "api://crm/.default" }
`,
      'http://127.0.0.1:PORT/api/search',
    );
    const { call, scopes } = build(text);
    const result = await call({ email: 'ada@x.com' });
    expect(result.isError, result.content).toBe(false);
    expect(scopes).toEqual(['api://crm/.default']);
    expect(seen[0]?.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
    });
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      query: { email: 'ada@x.com', tags: ['vip', 9] },
      count: 9,
      label: 'for ada@x.com',
    });
    noSecrets(result);
  });

  it('refuses arguments its input schema rejects, before any request', async () => {
    const { call } = build(toolFile(KEY_AUTH));
    const result = await call({ email: 'a' });
    expect(result).toMatchObject({ isError: true, errorKind: 'invalid_arguments' });
    expect(result.content).toContain('/email must NOT have fewer than 3 characters');
    expect(seen).toEqual([]);
  });

  it('classifies failures like the built-ins and redacts an echoed key from an error body', async () => {
    const { call } = build(toolFile(KEY_AUTH));
    answer = (request) => ({
      status: 400,
      body: `{"error":"bad request from ${request.headers.authorization}"}`,
    });
    const bad = await call({ email: 'ada@x.com' });
    expect(bad).toMatchObject({
      isError: true,
      errorKind: 'upstream_error',
      retryable: false,
      data: { status: 400 },
    });
    expect(bad.content).toContain('bad request from Key [redacted]');
    noSecrets(bad);
    answer = () => ({ status: 429, body: '{}', headers: { 'retry-after': '3' } });
    expect(await call({ email: 'ada@x.com' })).toMatchObject({
      errorKind: 'rate_limited',
      retryable: true,
      retryAfterMs: 3000,
    });
    answer = () => ({ status: 503, body: '{}' });
    expect(await call({ email: 'ada@x.com' })).toMatchObject({
      errorKind: 'upstream_error',
      retryable: true,
    });
    answer = () => ({ status: 401, body: '{}' });
    expect(await call({ email: 'ada@x.com' })).toMatchObject({
      errorKind: 'not_configured',
      retryable: false,
    });
  });

  it('refuses a response over maxResponseBytes and cuts the model text at maxOutputBytes', async () => {
    const { call } = build(toolFile(`${KEY_AUTH}limits: { maxResponseBytes: 100, maxOutputBytes: 400 }\n`));
    answer = () => ({ status: 200, body: JSON.stringify({ items: 'x'.repeat(200) }) });
    expect(await call({ email: 'ada@x.com' })).toMatchObject({
      isError: true,
      errorKind: 'output_too_large',
    });
    answer = () => ({ status: 200, body: JSON.stringify({ items: 'y'.repeat(80) }) });
    const cut = await call({ email: 'ada@x.com' }, { maxOutputBytes: 300 });
    expect(cut).toMatchObject({ isError: false, truncated: true });
    expect(Buffer.byteLength(cut.content)).toBeLessThanOrEqual(300);
  });

  it('reaches 127.0.0.1 only when URL_POLICY_ALLOW_HOSTS lists it, and says so', async () => {
    const { call } = build(toolFile(KEY_AUTH), { allow: '10.0.0.0/8' });
    const refused = await call({ email: 'ada@x.com' });
    expect(refused).toMatchObject({ isError: true, errorKind: 'blocked_url', data: { range: 'loopback' } });
    expect(refused.content).toContain('unless URL_POLICY_ALLOW_HOSTS lists the host or its address');
    expect(seen).toEqual([]);
  });

  it('turns a token failure into not_configured, and a slow answer into a retryable timeout', async () => {
    const mi = `auth: { type: managed-identity, scope: "api://crm/.default" }\n`;
    const failing = build(toolFile(mi), { tokenFor: () => Promise.reject(new Error('no identity here')) });
    const noToken = await failing.call({ email: 'ada@x.com' });
    expect(noToken).toMatchObject({ errorKind: 'not_configured' });
    expect(noToken.content).toContain('api://crm/.default): no identity here');
    expect(seen).toEqual([]);
    const slow = build(toolFile(`${KEY_AUTH}limits: { timeoutMs: 200 }\n`));
    answer = () => {
      const until = Date.now() + 400;
      while (Date.now() < until);
      return { status: 200, body: '{}' };
    };
    expect(await slow.call({ email: 'ada@x.com' })).toMatchObject({ errorKind: 'timeout', retryable: true });
  });
});
