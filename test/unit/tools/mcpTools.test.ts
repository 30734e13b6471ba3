import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUrlPolicy } from '../../../src/net/urlPolicy.js';
import { parseMcpServers, type McpServerConfig } from '../../../src/config/mcp.js';
import {
  createMcpTools,
  mcpServerOf,
  mcpToolName,
  policyUrlCheck,
  type McpToolsDeps,
} from '../../../src/tools/mcp/mcpTools.js';
import { parseWorkflowSources } from '../../../src/definitions/workflowSet.js';
import { createRunStarter } from '../../../src/functions/runStarter.js';
import { mcpActivityName, toolActivityName } from '../../../src/shared/names.js';
import { createWorkflowCatalog } from '../../../src/shared/workflows.js';
import { describeMcpStates } from '../../../src/tools/mcp/appMcpTools.js';
import { startFakeMcpServer, type FakeMcpServer } from '../../support/fakeMcpServer.js';

/** MCP servers as a tool source, against an MCP server built with the same SDK on loopback. */
let fake: FakeMcpServer;
beforeAll(async () => {
  fake = await startFakeMcpServer();
});
afterAll(async () => {
  await fake?.close();
});

function server(overrides: Record<string, unknown> = {}, env: Record<string, string> = {}): McpServerConfig {
  const [config] = parseMcpServers({
    MCP_SERVERS: JSON.stringify({ crm: { url: fake.url, ...overrides } }),
    ...env,
  });
  if (!config) throw new Error('no server parsed');
  return config;
}

const checked: string[] = [];
/** Loopback is what the test server has; the URL check records what it was asked, and lets it through. */
const allowAll: McpToolsDeps['checkUrl'] = (url) => {
  checked.push(url.href);
  return Promise.resolve();
};

const call = (name: string, args: Record<string, unknown>, limits?: Record<string, number>) => ({
  runId: 'run-1',
  stepId: 'lookup',
  toolUseId: `tu-${name}`,
  name,
  arguments: args,
  ...(limits ? { limits } : {}),
});

describe('MCP_SERVERS', () => {
  it('reads servers with headers, key auth from another setting and defaults', () => {
    const [crm] = parseMcpServers({
      MCP_SERVERS: JSON.stringify({
        crm: {
          url: 'https://crm.example/mcp',
          headers: { 'x-tenant': 'acme' },
          auth: { type: 'key', setting: 'CRM_KEY' },
        },
      }),
      CRM_KEY: 'k-123',
    });
    expect(crm).toMatchObject({ name: 'crm', headers: { 'x-tenant': 'acme' }, timeoutMs: 30_000 });
    expect(crm?.auth).toMatchObject({ type: 'key', header: 'authorization' });
    // The key never prints.
    expect(JSON.stringify(crm)).not.toContain('k-123');
    expect(parseMcpServers({})).toEqual([]);
  });

  it('names every problem with its path', () => {
    expect(() => parseMcpServers({ MCP_SERVERS: '{"crm":' })).toThrow(/MCP_SERVERS must be JSON/);
    const bad = JSON.stringify({
      my_crm: { url: 'https://crm.example/mcp' },
      ok: { url: 'ftp://x', auth: { type: 'password' } },
      other: { url: 'https://x.example', extra: 1 },
    });
    let message = '';
    try {
      parseMcpServers({ MCP_SERVERS: bad });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/MCP_SERVERS\.my_crm: server names are 1-30 letters, digits or "-"/);
    expect(message).toMatch(/MCP_SERVERS\.ok\.url: url must be an http\(s\) URL/);
    expect(message).toMatch(/MCP_SERVERS\.ok\.auth\.type: auth\.type must be "managed-identity" or "key"/);
    expect(message).toMatch(/MCP_SERVERS\.other: .*extra/);
    expect(() =>
      parseMcpServers({
        MCP_SERVERS: JSON.stringify({
          crm: { url: 'https://x.example', auth: { type: 'key', setting: 'NOPE' } },
        }),
      }),
    ).toThrow(/MCP_SERVERS\.crm\.auth: the app setting NOPE is not set/);
  });
});

describe('tool names', () => {
  it('are <server>__<tool> within what Claude and OpenAI accept', () => {
    expect(mcpToolName('crm', 'lookup_customer')).toBe('crm__lookup_customer');
    const dotted = mcpToolName('crm', 'orders.list');
    expect(dotted).toMatch(/^crm__orders_list-[0-9a-f]{8}$/);
    expect(mcpToolName('crm', 'orders_list')).not.toBe(dotted);
    const long = mcpToolName('a-server-name-of-thirty-chars-', 'x'.repeat(100));
    expect(long).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(long.length).toBe(64);
    expect(mcpServerOf('crm__orders__list')).toBe('crm');
    expect(mcpServerOf('web_search')).toBeUndefined();
  });
});

describe('MCP tools against a loopback MCP server', () => {
  it('lists the tools, sending the configured headers and key through the checked fetch', async () => {
    const before = fake.requests.length;
    const tools = createMcpTools({
      servers: [
        server(
          { headers: { 'x-tenant': 'acme' }, auth: { type: 'key', setting: 'CRM_KEY' } },
          { CRM_KEY: 'k-1' },
        ),
      ],
      checkUrl: allowAll,
    });
    expect(tools.problemFor(['crm__lookup_customer'])).toMatch(
      /MCP server "crm" has not listed its tools yet/,
    );
    const states = await tools.discover();
    expect(states.get('crm')).toMatchObject({ state: 'ready', skipped: [] });
    const specs = tools.specs();
    expect(Object.keys(specs).sort()).toEqual(
      [
        'crm__dump',
        'crm__lookup_customer',
        mcpToolName('crm', 'orders.list'),
        'crm__refuse',
        'crm__slow',
      ].sort(),
    );
    expect(specs.crm__lookup_customer).toMatchObject({
      description: 'Looks a customer up by id',
      inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    });
    const sent = fake.requests.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const request of sent) {
      expect(request.headers['x-tenant']).toBe('acme');
      expect(request.headers.authorization).toBe('Bearer k-1');
    }
    expect(checked).toContain(fake.url);
    expect(tools.problemFor(['crm__lookup_customer', 'web_search'])).toBeUndefined();
    expect(tools.problemFor(['crm__nope'])).toMatch(
      /MCP server "crm" offers no tool crm__nope \(it offers: crm__dump, /,
    );
    expect(tools.owns('crm__anything')).toBe(true);
    expect(tools.owns('other__x')).toBe(false);
  });

  it('calls a tool: the server gets the original name and arguments, the model gets marked text and data', async () => {
    const tools = createMcpTools({ servers: [server()], checkUrl: allowAll });
    // A fresh process: the call lists the tools itself first.
    const result = await tools.call(call('crm__lookup_customer', { id: 'c-42' }));
    expect(result).toMatchObject({
      toolUseId: 'tu-crm__lookup_customer',
      name: 'crm__lookup_customer',
      isError: false,
      truncated: false,
      data: { id: 'c-42', name: 'Customer c-42', tier: 'enterprise' },
    });
    expect(result.content).toContain('<untrusted_content source="mcp:crm">');
    expect(result.content).toContain('"name":"Customer c-42"');
    expect(fake.calls).toContainEqual({ tool: 'lookup_customer', arguments: { id: 'c-42' } });

    const dotted = await tools.call(call(mcpToolName('crm', 'orders.list'), { customer: 'c-1' }));
    expect(dotted.isError).toBe(false);
    expect(fake.calls).toContainEqual({ tool: 'orders.list', arguments: { customer: 'c-1' } });
  });

  it('types failures: tool errors, bad arguments, timeouts, size caps, unknown tools', async () => {
    const tools = createMcpTools({
      servers: [server({ timeoutMs: 300, maxResponseBytes: 20_000, maxOutputBytes: 4_000 })],
      checkUrl: allowAll,
    });
    await tools.discover();
    expect(await tools.call(call('crm__refuse', {}))).toMatchObject({
      isError: true,
      errorKind: 'upstream_error',
      retryable: false,
    });
    expect((await tools.call(call('crm__refuse', {}))).content).toContain('the CRM is read-only today');

    const badArgs = await tools.call(call('crm__lookup_customer', { id: 7 }));
    expect(badArgs.isError).toBe(true);
    expect(badArgs.content).toMatch(/id/);

    const slow = await tools.call(call('crm__slow', { ms: 2_000 }));
    expect(slow).toMatchObject({ isError: true, errorKind: 'timeout', retryable: true });
    expect(slow.content).toContain('did not answer within 300 ms');

    const huge = await tools.call(call('crm__dump', { kb: 40 }));
    expect(huge).toMatchObject({ isError: true, errorKind: 'output_too_large' });
    expect(huge.content).toContain('larger than 20000 bytes');

    const cut = await tools.call(call('crm__dump', { kb: 10 }));
    expect(cut).toMatchObject({ isError: false, truncated: true });
    expect(Buffer.byteLength(cut.content)).toBeLessThanOrEqual(4_000);
    const cutMore = await tools.call(call('crm__dump', { kb: 10 }, { maxOutputBytes: 1_000 }));
    expect(Buffer.byteLength(cutMore.content)).toBeLessThanOrEqual(1_000);

    expect(await tools.call(call('crm__missing', {}))).toMatchObject({
      isError: true,
      errorKind: 'not_configured',
    });
    expect(await tools.call(call('erp__x', {}))).toMatchObject({
      isError: true,
      errorKind: 'not_configured',
    });
  });

  it('goes through the SSRF guard: a loopback server is refused before any request', async () => {
    const before = fake.requests.length;
    const tools = createMcpTools({ servers: [server()], checkUrl: policyUrlCheck(createUrlPolicy()) });
    const states = await tools.discover();
    expect(states.get('crm')).toMatchObject({ state: 'unreachable' });
    const reason = (states.get('crm') as { reason: string }).reason;
    expect(reason).toMatch(/The URL policy refuses http:\/\/127\.0\.0\.1:\d+\/mcp: .*loopback/);
    expect(fake.requests.length).toBe(before);
    expect(await tools.call(call('crm__lookup_customer', { id: '1' }))).toMatchObject({
      isError: true,
      errorKind: 'not_configured',
    });
  });

  it('reports an unreachable server by name, for startup and for the workflows that use it', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const [down] = parseMcpServers({
      MCP_SERVERS: JSON.stringify({ erp: { url: `http://127.0.0.1:${closed}/mcp`, timeoutMs: 2_000 } }),
    });
    const tools = createMcpTools({ servers: [down!], checkUrl: allowAll });
    const states = await tools.discover();
    expect(states.get('erp')).toMatchObject({ state: 'unreachable' });
    expect((states.get('erp') as { reason: string }).reason).toMatch(/fetch failed|ECONNREFUSED/);
    expect(tools.problemFor(['erp__invoice', 'web_search'])).toMatch(
      /^MCP server "erp" is unreachable \(.+\), so its tool erp__invoice is not available$/,
    );
    expect(tools.specs()).toEqual({});
  });
});

describe('MCP tools in the app', () => {
  it('route each server to one activity, other tools to their own', () => {
    expect(toolActivityName('crm__lookup_customer')).toBe('mcp_crm');
    expect(toolActivityName('crm__orders__list')).toBe(mcpActivityName('crm'));
    expect(toolActivityName('web_search')).toBe('tool_web_search');
  });

  it('pass workflow checks as runtime tools, and the run carries the specs listed at its start', async () => {
    const source = `
name: customer-brief
version: 1
description: Looks a customer up.
input: { type: object, properties: { id: { type: string } } }
steps:
  - id: brief
    kind: agent
    role: worker
    tools: [crm__lookup_customer]
    prompt: 'Customer {{ input.id }}'
output: brief
`;
    const strict = parseWorkflowSources([
      { file: 'customer-brief.yaml', name: 'customer-brief', text: source },
    ]);
    expect(strict.errors.map((e) => e.message).join('\n')).toMatch(/unknown tool "crm__lookup_customer"/);
    const tools = createMcpTools({ servers: [server()], checkUrl: allowAll });
    const loaded = parseWorkflowSources(
      [{ file: 'customer-brief.yaml', name: 'customer-brief', text: source }],
      {
        isRuntimeTool: (name) => tools.owns(name),
      },
    );
    expect(loaded.errors).toEqual([]);
    const catalog = createWorkflowCatalog(loaded.definitions);
    const starter = createRunStarter({
      workflows: catalog,
      tools: () => tools.specs(),
      toolProblem: (names) => tools.check(names),
      callbacksEnabled: () => false,
    });
    const prepared = await starter.prepare({ workflow: 'customer-brief', input: { id: 'c-1' } });
    expect(prepared.kind).toBe('ready');
    const input = (prepared as { input: { tools: Record<string, unknown> } }).input;
    expect(Object.keys(input.tools)).toEqual(['crm__lookup_customer']);
    expect(input.tools.crm__lookup_customer).toMatchObject({ description: 'Looks a customer up by id' });

    const down = createMcpTools({ servers: [server({ url: 'http://127.0.0.1:9/mcp' })], checkUrl: allowAll });
    const refused = await createRunStarter({
      workflows: catalog,
      tools: () => down.specs(),
      toolProblem: (names) => down.check(names),
      callbacksEnabled: () => false,
    }).prepare({ workflow: 'customer-brief', input: { id: 'c-1' } });
    expect(refused).toMatchObject({
      kind: 'tools_unavailable',
      message: expect.stringMatching(
        /^Runs of "customer-brief" cannot start now: MCP server "crm" is unreachable/,
      ) as unknown,
    });
    const described = describeMcpStates(down.states(), catalog);
    expect(described.warning).toMatch(
      /^WARNING: MCP server "crm" could not be listed \(.+\)\. Runs of customer-brief are refused until it answers\.$/,
    );
    expect(describeMcpStates(tools.states(), catalog).info).toMatch(
      /^MCP server "crm": crm__dump, crm__lookup_customer/,
    );
  });
});
