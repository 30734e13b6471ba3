import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkflowDirectory } from '../../src/definitions/loadWorkflows.js';
import type { RunView } from '../../src/functions/runView.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * `POST /api/mcp` on the local host, driven by the MCP SDK's own client over loopback: the shipped
 * workflows as tools, a call that runs ticket-triage on the offline model to completion, tool errors for
 * bad input, and the function key.
 */
const appDir = path.resolve(__dirname, '../..');
const shippedFiles = readdirSync(path.join(appDir, 'workflows')).filter((f) => f.endsWith('.yaml'));
const shipped = loadWorkflowDirectory(path.join(appDir, 'workflows')).definitions;

let host: TestHost;
const clients: Client[] = [];

beforeAll(async () => {
  process.env.OFFLINE_MODEL = 'on';
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await host?.stop();
});

async function connect(headers: Record<string, string> = { 'x-functions-key': host.host.keys.functionKey }) {
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  const errors: Error[] = [];
  client.onerror = (error) => errors.push(error);
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${host.host.url}/api/mcp`), { requestInit: { headers } }),
  );
  clients.push(client);
  return { client, errors };
}

describe('POST /api/mcp: the workflows as an MCP server', () => {
  it('lists every shipped workflow as a tool with its input schema and description', async () => {
    const { client, errors } = await connect();
    expect(client.getServerVersion()?.name).toBe('durable-agents');
    const { tools } = await client.listTools();
    expect(shippedFiles.length).toBeGreaterThanOrEqual(4);
    expect(tools.map((t) => t.name).sort()).toEqual(shippedFiles.map((f) => f.replace(/\.yaml$/, '')).sort());
    for (const tool of tools) {
      const definition = shipped.get(tool.name);
      expect(tool.description).toBe(definition?.description);
      expect(tool.name).toMatch(/^[A-Za-z0-9_.-]{1,128}$/);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.inputSchema.required).toEqual(definition?.input.required);
      expect(Object.keys(tool.inputSchema.properties ?? {})).toEqual(
        Object.keys((definition?.input.properties ?? {}) as object),
      );
      expect(tool.outputSchema?.required).toEqual(['runId', 'runUrl', 'status', 'outcome']);
    }
    // The optional GET stream is refused with 405, which the client takes as "no stream", not an error.
    expect(errors).toEqual([]);
  });

  it('runs ticket-triage to completion and returns its output', async () => {
    const { client } = await connect();
    await client.listTools(); // the client checks structuredContent against the listed outputSchema
    const result = await client.callTool({
      name: 'ticket-triage',
      arguments: { subject: 'Refund', body: 'I was charged twice for my plan this month.' },
    });
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    const structured = result.structuredContent as {
      runId: string;
      runUrl: string;
      status: string;
      outcome: string;
      output: Record<string, unknown>;
    };
    expect(structured).toMatchObject({ status: 'Completed', outcome: 'completed' });
    expect(structured.runUrl).toBe(`${host.host.url}/api/runs/${structured.runId}`);
    expect(structured.output).toMatchObject({
      triage: { category: expect.any(String) as unknown, priority: expect.any(String) as unknown },
      escalated: expect.any(Boolean) as unknown,
    });
    const content = result.content as { type: string; text: string }[];
    expect(content[0]?.type).toBe('text');
    expect(JSON.parse(content[0]?.text ?? 'null')).toEqual(structured.output);

    // The same run through the business API.
    const run = (await (
      await fetch(structured.runUrl, { headers: { 'x-functions-key': host.host.keys.functionKey } })
    ).json()) as RunView;
    expect(run).toMatchObject({ workflow: 'ticket-triage', status: 'Completed', outcome: 'completed' });
    expect(run.output).toEqual(structured.output);
  });

  it('answers with the run URL when the run does not finish within the wait', async () => {
    const { client } = await connect();
    const result = await client.callTool({
      name: 'ticket-triage',
      arguments: { subject: 'Login', body: 'I cannot log in.' },
      _meta: { 'durable-agents/waitSeconds': 0 },
    });
    expect(result.isError).toBeFalsy();
    const structured = result.structuredContent as { runId: string; runUrl: string; status: string };
    expect(structured.status).toBe('Running');
    expect((result.content as { text: string }[])[0]?.text).toContain(structured.runUrl);
    const deadline = Date.now() + 30_000;
    let run: RunView;
    do {
      const response = await fetch(structured.runUrl, {
        headers: { 'x-functions-key': host.host.keys.functionKey },
      });
      run = (await response.json()) as RunView;
      if (run.status === 'Completed') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } while (Date.now() < deadline);
    expect(run).toMatchObject({ id: structured.runId, status: 'Completed', outcome: 'completed' });
  });

  it('gives a tool error naming each bad field, and starts nothing', async () => {
    const { client } = await connect();
    const result = await client.callTool({
      name: 'ticket-triage',
      arguments: { subject: 'x', customerTier: 'platinum' },
    });
    expect(result.isError).toBe(true);
    const message = (result.content as { text: string }[])[0]?.text ?? '';
    expect(message).toContain('Invalid input for workflow "ticket-triage"');
    expect(message).toMatch(/\/customerTier: .*(free|allowed)/);
    expect(message).toMatch(/body/);
    expect(result.structuredContent).toBeUndefined();
  });

  it('refuses an unknown tool and a bad wait as protocol errors', async () => {
    const { client } = await connect();
    const unknown = client.callTool({ name: 'nope', arguments: {} });
    await expect(unknown).rejects.toBeInstanceOf(McpError);
    await expect(unknown).rejects.toThrow(/Unknown tool "nope".*ticket-triage/);
    await expect(
      client.callTool({
        name: 'ticket-triage',
        arguments: { subject: 'a', body: 'b' },
        _meta: { 'durable-agents/waitSeconds': 100_000 },
      }),
    ).rejects.toThrow(/waitSeconds"\] must be a whole number of seconds from 0 to 60/);
  });

  it('needs the function key: 401 without it', async () => {
    await expect(connect({})).rejects.toThrow(/401/);
    const raw = await fetch(`${host.host.url}/api/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(raw.status).toBe(401);
  });

  it('answers GET with 405 (no server-initiated stream) and malformed JSON with a parse error', async () => {
    const key = { 'x-functions-key': host.host.keys.functionKey };
    const get = await fetch(`${host.host.url}/api/mcp`, { headers: { ...key, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const bad = await fetch(`${host.host.url}/api/mcp`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc": "2.0", ',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });
});
