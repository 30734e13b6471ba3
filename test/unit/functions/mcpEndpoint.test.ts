import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkflowDirectory } from '../../../src/definitions/loadWorkflows.js';
import type { WorkflowDefinition } from '../../../src/definitions/schema.js';
import {
  createMcpEndpoint,
  mcpRunUrl,
  toolInputSchema,
  waitFromMeta,
} from '../../../src/functions/mcpEndpoint.js';
import { createRunStarter } from '../../../src/functions/runStarter.js';
import { runFailureMessage } from '../../../src/shared/runFailure.js';
import { createWorkflowCatalog } from '../../../src/shared/workflows.js';

/**
 * The MCP endpoint's handler in-process: the SDK's client talks to it through an injected `fetch` that
 * turns each request into an `@azure/functions` HttpRequest, against a fake DurableClient whose statuses
 * the test chooses (failed and budget-stopped runs, which the offline model does not produce on demand).
 */
const shipped = loadWorkflowDirectory(path.resolve(__dirname, '../../../workflows')).definitions;
const catalog = createWorkflowCatalog(shipped);
const T0 = new Date('2026-01-01T00:00:00Z');

function fakeClient(runtimeStatus: string, output: unknown) {
  const started: unknown[] = [];
  const client = {
    startNew: (_name: string, options?: { input?: unknown }) => {
      started.push(options?.input);
      return Promise.resolve('run-1');
    },
    getStatus: (instanceId: string) =>
      Promise.resolve({
        name: 'runWorkflow',
        instanceId,
        runtimeStatus,
        customStatus: null,
        input: null,
        output,
        createdTime: T0,
        lastUpdatedTime: T0,
      } as unknown as DurableOrchestrationStatus),
  } as unknown as DurableClient;
  return { client, started };
}

async function connectTo(client: DurableClient): Promise<Client> {
  const handler = createMcpEndpoint({
    workflows: catalog,
    starter: createRunStarter({ workflows: catalog, tools: () => ({}), callbacksEnabled: () => false }),
    getClient: () => client,
    maxWaitSeconds: () => 5,
    pollIntervalMs: 1,
  });
  const inProcess = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const request = new HttpRequest({
      method: init?.method ?? 'GET',
      url: String(url),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      ...(typeof init?.body === 'string' ? { body: { string: init.body } } : {}),
    });
    const response: HttpResponseInit = await handler(
      request,
      new InvocationContext({ functionName: 'mcp', logHandler: () => {} }),
    );
    return new Response(response.body as string | null, {
      status: response.status ?? 200,
      headers: response.headers as Record<string, string>,
    });
  };
  const mcp = new Client({ name: 'unit', version: '1' });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL('http://localhost:7071/api/mcp'), { fetch: inProcess }),
  );
  return mcp;
}

const ticket = { subject: 'Refund', body: 'Charged twice.' };

describe('MCP endpoint results', () => {
  it('turns a run stopped by its budget into a tool error naming the outcome, kind and step', async () => {
    const failure = runFailureMessage('budget_exceeded', {
      kind: 'budget_exceeded',
      message: 'The run would pass its $0.50 budget',
      stepId: 'classify',
    });
    const fake = fakeClient('Failed', `Orchestrator function 'runWorkflow' failed: ${failure}`);
    const mcp = await connectTo(fake.client);
    await mcp.listTools();
    const result = await mcp.callTool({ name: 'ticket-triage', arguments: ticket });
    expect(fake.started).toHaveLength(1);
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]?.text).toBe(
      'Run run-1 of ticket-triage ended budget_exceeded: budget_exceeded: The run would pass its $0.50 budget (step classify)',
    );
    expect(result.structuredContent).toEqual({
      runId: 'run-1',
      runUrl: 'http://localhost:7071/api/runs/run-1',
      status: 'Failed',
      outcome: 'budget_exceeded',
      error: { kind: 'budget_exceeded', message: 'The run would pass its $0.50 budget', stepId: 'classify' },
    });
    await mcp.close();
  });

  it('turns a terminated run into a tool error', async () => {
    const mcp = await connectTo(fakeClient('Terminated', 'stopped by ops').client);
    const result = await mcp.callTool({ name: 'ticket-triage', arguments: ticket });
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]?.text).toContain(
      'ended Terminated: terminated: stopped by ops',
    );
    await mcp.close();
  });

  it('starts nothing for invalid input and lists each problem with its pointer', async () => {
    const fake = fakeClient('Completed', null);
    const mcp = await connectTo(fake.client);
    const result = await mcp.callTool({ name: 'ticket-triage', arguments: { subject: 7 } });
    expect(fake.started).toEqual([]);
    expect(result.isError).toBe(true);
    const lines = ((result.content as { text: string }[])[0]?.text ?? '').split('\n');
    expect(lines[0]).toBe('Invalid input for workflow "ticket-triage":');
    expect(lines.slice(1).some((line) => line.startsWith('/subject: '))).toBe(true);
    expect(lines.slice(1).some((line) => line.includes('body'))).toBe(true);
    await mcp.close();
  });
});

describe('MCP endpoint helpers', () => {
  it('inlines file references as a $defs entry the schema can resolve', () => {
    const definition = shipped.get('document-intake') as WorkflowDefinition;
    const schema = toolInputSchema(definition);
    expect(JSON.stringify(schema)).not.toContain('x-file');
    expect(JSON.stringify(schema)).toContain('"$ref":"#/$defs/FileReference"');
    expect((schema.$defs as Record<string, unknown>).FileReference).toHaveProperty('oneOf');
    const plain = toolInputSchema(shipped.get('ticket-triage') as WorkflowDefinition);
    expect(plain.$defs).toBeUndefined();
    expect(plain.type).toBe('object');
  });

  it('reads the wait from _meta within bounds', () => {
    expect(waitFromMeta(undefined, 60)).toBe(60);
    expect(waitFromMeta({ 'durable-agents/waitSeconds': 0 }, 60)).toBe(0);
    expect(waitFromMeta({ 'durable-agents/waitSeconds': 61 }, 60)).toMatch(/from 0 to 60 \(got 61\)/);
    expect(waitFromMeta({ 'durable-agents/waitSeconds': '5' }, 60)).toMatch(/got "5"/);
  });

  it('builds the run URL on the same origin and route prefix', () => {
    expect(mcpRunUrl('https://app.example/api/mcp?code=secret', 'a b')).toBe(
      'https://app.example/api/runs/a%20b',
    );
  });
});
