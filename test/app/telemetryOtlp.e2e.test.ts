import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';

/**
 * `npm start` (node dist/devhost/cli.js start --app .) with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an
 * OTLP/HTTP JSON receiver on loopback: ticket-triage and data-analysis runs arrive as one trace each,
 * with gen_ai chat spans (model and tokens), execute_tool spans and the instance id on every span.
 * The receiver decodes OTLP/JSON as the protocol defines it
 * (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding: hex trace and span ids, attribute
 * values as { stringValue | intValue | doubleValue | boolValue | arrayValue }).
 */
const root = path.resolve(__dirname, '../..');

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: OtlpValue }[];
}
interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}
interface Received {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly attributes: Record<string, unknown>;
  readonly resource: Record<string, unknown>;
}

function valueOf(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}
const attributesOf = (list: { key: string; value: OtlpValue }[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));

const spans: Received[] = [];
const requests: { contentType: string | undefined; headers: IncomingHttpHeaders }[] = [];
let receiver: Server;
let app: ChildProcess | undefined;
let appOutput = '';
let stateDir: string;
let startUrl: (workflow: string) => string;

async function startReceiver(): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ contentType: request.headers['content-type'], headers: request.headers });
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest;
      for (const resourceSpans of body.resourceSpans ?? []) {
        const resource = attributesOf(resourceSpans.resource?.attributes);
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              name: span.name,
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              attributes: attributesOf(span.attributes),
              resource,
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Starts the app the way `npm start` does and resolves with the starter's URL and key from its banner. */
async function startApp(otlpEndpoint: string): Promise<(workflow: string) => string> {
  const child = spawn(
    process.execPath,
    ['dist/devhost/cli.js', 'start', '--app', '.', '--port', '0', '--no-azurite', '--state', stateDir],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AzureWebJobsStorage: inject('azuriteConnectionString'),
        WORKFLOW_REQUESTS_QUEUE: `otlp-${process.pid}`,
        OFFLINE_MODEL: 'on',
        DEVHOST_LOG_LEVEL: 'warning',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=otlp-test-token',
        OTEL_SERVICE_NAME: 'durable-agents-test',
        // A batch delay longer than the test: spans can only arrive through the flush at the end of each call.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  app = child;
  child.stdout.on('data', (chunk: Buffer) => (appOutput += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (appOutput += chunk.toString('utf8')));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const match =
      /startWorkflow: \[POST\] (http:\/\/127\.0\.0\.1:\d+\/api\/workflows\/)\{name\}\?code=(\S+)/.exec(
        appOutput,
      );
    if (match) return (workflow) => `${match[1]}${workflow}?code=${match[2]}&wait=60`;
    if (child.exitCode !== null) throw new Error(`the app exited (${child.exitCode}):\n${appOutput}`);
    if (Date.now() > deadline) throw new Error(`the app did not start:\n${appOutput}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'otlp-test-'));
  receiver = await startReceiver();
  const { port } = receiver.address() as AddressInfo;
  startUrl = await startApp(`http://127.0.0.1:${port}`);
}, 90_000);

afterAll(async () => {
  if (app && app.exitCode === null) {
    const exited = new Promise((resolve) => app?.once('exit', resolve));
    app.kill('SIGTERM');
    await exited;
  }
  await new Promise((resolve) => receiver?.close(resolve));
  rmSync(stateDir, { recursive: true, force: true });
});

async function run(workflow: string, input: unknown): Promise<RunView> {
  const response = await fetch(startUrl(workflow), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as RunView;
}

/** The run's spans once its start span and `calls` chat spans have arrived. */
async function spansOfRun(runId: string, calls: number): Promise<Received[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const mine = spans.filter((span) => span.attributes['durable_agents.instance_id'] === runId);
    const chats = mine.filter((span) => span.name.startsWith('chat '));
    if (chats.length >= calls && mine.some((span) => span.name.startsWith('invoke_workflow '))) return mine;
    if (Date.now() > deadline) {
      throw new Error(`spans of ${runId} did not arrive: ${JSON.stringify(mine.map((s) => s.name))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One trace per run, holding only the run's spans, each with its instance id and workflow. */
function checkRun(runSpans: readonly Received[], runId: string, workflow: string): string {
  const traceIds = new Set(runSpans.map((span) => span.traceId));
  expect(traceIds.size).toBe(1);
  const [traceId = ''] = [...traceIds];
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  const inTrace = spans.filter((span) => span.traceId === traceId);
  expect(inTrace.length).toBe(runSpans.length);
  for (const span of inTrace) {
    expect(span.attributes['durable_agents.instance_id'], span.name).toBe(runId);
    expect(span.attributes['durable_agents.workflow'], span.name).toBe(workflow);
    expect(span.resource['service.name']).toBe('durable-agents-test');
  }
  const start = inTrace.filter((span) => span.name === `invoke_workflow ${workflow}`);
  expect(start).toHaveLength(1);
  for (const span of inTrace.filter((s) => /^(chat|execute_tool) /.test(s.name))) {
    expect(span.parentSpanId, span.name).toBe(start[0]?.spanId);
    expect(typeof span.attributes['durable_agents.step_id'], span.name).toBe('string');
  }
  return traceId;
}

function checkChat(span: Received): void {
  const model = span.attributes['gen_ai.request.model'];
  expect(span.name).toBe(`chat ${String(model)}`);
  expect(span.attributes['gen_ai.operation.name']).toBe('chat');
  expect(span.attributes['gen_ai.provider.name']).toMatch(/^(anthropic|openai|azure\.ai\.openai)$/);
  expect(span.attributes['gen_ai.response.model']).toBe(model);
  expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
  expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  expect(span.attributes['gen_ai.usage.cache_read.input_tokens']).toBeTypeOf('number');
  expect(span.attributes['gen_ai.usage.cache_creation.input_tokens']).toBeTypeOf('number');
  expect(span.attributes['gen_ai.response.finish_reasons']).toEqual([expect.any(String) as unknown]);
}

describe('npm start exporting OTLP/HTTP JSON to a loopback receiver', () => {
  let triageTrace = '';

  it('ticket-triage: one trace with gen_ai chat spans carrying model and tokens', async () => {
    const view = await run('ticket-triage', {
      subject: 'Charged twice',
      body: 'My card was billed twice for the March invoice.',
    });
    expect(view.status).toBe('Completed');
    const calls = view.ledger?.totals.calls ?? 0;
    expect(calls).toBeGreaterThanOrEqual(1);
    const runSpans = await spansOfRun(view.id, calls);
    triageTrace = checkRun(runSpans, view.id, 'ticket-triage');
    const chats = runSpans.filter((span) => span.name.startsWith('chat '));
    expect(chats).toHaveLength(calls);
    chats.forEach(checkChat);
    expect(chats.map((span) => span.attributes['durable_agents.step_id'])).toContain('classify');
    // The exporter sends JSON with the configured headers (OTEL_EXPORTER_OTLP_HEADERS).
    const exports = requests.filter((r) => r.contentType !== undefined);
    expect(exports.length).toBeGreaterThan(0);
    for (const request of exports) {
      expect(request.contentType).toMatch(/^application\/json/);
      expect(request.headers['x-collector-token']).toBe('otlp-test-token');
    }
  });

  it('data-analysis: its own trace, with execute_tool spans for the agent’s run_code calls', async () => {
    const view = await run('data-analysis', {
      question: 'Which region grew most?',
      data: 'region,q1,q2\nnorth,120,150\nsouth,90,95\n',
    });
    expect(view.status).toBe('Completed');
    const runSpans = await spansOfRun(view.id, view.ledger?.totals.calls ?? 1);
    const traceId = checkRun(runSpans, view.id, 'data-analysis');
    expect(traceId).not.toBe(triageTrace);
    runSpans.filter((span) => span.name.startsWith('chat ')).forEach(checkChat);
    const tools = runSpans.filter((span) => span.name.startsWith('execute_tool '));
    expect(tools.length).toBeGreaterThanOrEqual(1);
    for (const tool of tools) {
      expect(tool.name).toBe('execute_tool run_code');
      expect(tool.attributes).toMatchObject({
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'run_code',
        'durable_agents.step_id': 'analyze',
      });
    }
  });
});
