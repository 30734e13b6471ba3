import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import { RunAttributesProcessor } from '../../src/telemetry/runContext.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * The span tree of shipped workflow runs (ticket-triage, data-analysis) on the local host with the
 * offline model, caught by an in-memory exporter registered as the global tracer provider before the
 * app (dist/src) loads: one trace per run under its `invoke_workflow` span, a `chat` span per model call
 * and an `execute_tool` span per tool call, each with the run's instance id, workflow and step.
 */
const appDir = path.resolve(__dirname, '../..');
const exporter = new InMemorySpanExporter();
// The run-attributes processor as src/telemetry/setup.ts installs it, ahead of the exporter.
const provider = new NodeTracerProvider({
  spanProcessors: [new RunAttributesProcessor(), new SimpleSpanProcessor(exporter)],
});
let host: TestHost;

beforeAll(async () => {
  provider.register();
  Object.assign(process.env, { OFFLINE_MODEL: 'on', WORKFLOW_REQUESTS_QUEUE: `telemetry-${process.pid}` });
  delete process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
  // Inline: the app runs in this thread, where the in-memory exporter is the global provider.
  host = await startTestHost({ appDir, languageWorker: 'inline' });
});

afterAll(async () => {
  await host?.stop();
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});

beforeEach(() => {
  exporter.reset();
  delete process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
});

const TICKET = {
  subject: 'Charged twice this month',
  body: 'My card was billed twice for the March invoice. Please refund one charge.',
  customerTier: 'enterprise',
};
const DATA = {
  question: 'Which region grew most?',
  data: 'region,q1,q2\nnorth,120,150\nsouth,90,95\n',
};

async function run(workflow: string, input: unknown, headers: Record<string, string> = {}): Promise<RunView> {
  const response = await fetch(`${host.host.url}/api/workflows/${workflow}?wait=60`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-functions-key': host.host.keys.functionKey,
      ...headers,
    },
    body: JSON.stringify(input),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as RunView;
}

const attr = (span: ReadableSpan, name: string) => span.attributes[name];
const spansOf = (runId: string) =>
  exporter.getFinishedSpans().filter((span) => attr(span, 'durable_agents.instance_id') === runId);

/** The run's spans: one trace, every span on the run, and the start span as the parent of the rest. */
function checkTree(runId: string, workflow: string) {
  const spans = spansOf(runId);
  const traceIds = new Set(spans.map((span) => span.spanContext().traceId));
  expect(traceIds.size, 'one trace per run').toBe(1);
  const [traceId] = [...traceIds];
  // Every span of that trace belongs to the run (none lacks the instance id).
  const inTrace = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
  expect(inTrace.map((span) => span.name).sort()).toEqual(spans.map((span) => span.name).sort());
  const starts = spans.filter((span) => span.name === `invoke_workflow ${workflow}`);
  expect(starts).toHaveLength(1);
  const start = starts[0]!;
  expect(start.attributes).toMatchObject({
    'gen_ai.operation.name': 'invoke_workflow',
    'gen_ai.workflow.name': workflow,
    'durable_agents.workflow': workflow,
    'durable_agents.trigger': 'http',
  });
  const ids = new Set(spans.map((span) => span.spanContext().spanId));
  for (const span of spans) {
    expect(attr(span, 'durable_agents.workflow'), span.name).toBe(workflow);
    if (span === start) continue;
    expect(typeof attr(span, 'durable_agents.step_id'), span.name).toBe('string');
    // The app's call spans hang off the start span; SDK spans (anthropic.messages.create) off a call span.
    const parent = span.parentSpanContext?.spanId;
    if (/^(chat|execute_tool) /.test(span.name)) {
      expect(parent, `${span.name} is a child of the start span`).toBe(start.spanContext().spanId);
    } else {
      expect(ids.has(parent ?? ''), `${span.name} has its parent in the run`).toBe(true);
    }
  }
  return { spans, start, traceId: traceId! };
}

/** The app's chat spans (the Anthropic SDK's own request spans say `chat` too, under another name). */
function chatSpans(spans: readonly ReadableSpan[]) {
  return spans.filter(
    (span) => span.name.startsWith('chat ') && attr(span, 'gen_ai.operation.name') === 'chat',
  );
}

describe('traces of shipped workflow runs (in-memory exporter)', () => {
  it('ticket-triage: one trace under the caller’s traceparent, a chat span per model call', async () => {
    const callerTrace = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const view = await run('ticket-triage', TICKET, { traceparent: `00-${callerTrace}-${callerSpan}-01` });
    expect(view.status).toBe('Completed');
    const { spans, start, traceId } = checkTree(view.id, 'ticket-triage');
    expect(traceId).toBe(callerTrace);
    expect(start.parentSpanContext?.spanId).toBe(callerSpan);

    const chats = chatSpans(spans);
    expect(chats.length).toBeGreaterThanOrEqual(1);
    expect(chats.length).toBe(view.ledger?.totals.calls);
    const classify = chats.find((span) => attr(span, 'durable_agents.step_id') === 'classify');
    expect(classify).toBeDefined();
    const model = attr(classify!, 'gen_ai.request.model');
    expect(classify!.name).toBe(`chat ${String(model)}`);
    expect(classify!.kind).toBe(2); // SpanKind.CLIENT
    expect(classify!.attributes).toMatchObject({
      // Offline, the worker role is Claude Haiku on the Foundry provider (Messages API: `anthropic`).
      'gen_ai.provider.name': 'anthropic',
      'durable_agents.provider': 'foundry',
      'gen_ai.request.model': 'claude-haiku-4-5',
      'gen_ai.response.model': 'claude-haiku-4-5',
      'gen_ai.usage.input_tokens': expect.any(Number) as unknown,
      'gen_ai.usage.output_tokens': expect.any(Number) as unknown,
      'gen_ai.usage.cache_read.input_tokens': expect.any(Number) as unknown,
      'gen_ai.usage.cache_creation.input_tokens': expect.any(Number) as unknown,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.request.max_tokens': 600,
      'durable_agents.role': 'worker',
      'durable_agents.offline': true,
    });
    expect(attr(classify!, 'gen_ai.usage.output_tokens') as number).toBeGreaterThan(0);
    // The span's tokens are the ledger's: all input kinds in input_tokens, as the conventions ask.
    const usage = view.ledger!.totals.usage;
    const sum = (name: string) => chats.reduce((total, span) => total + (attr(span, name) as number), 0);
    expect(sum('gen_ai.usage.output_tokens')).toBe(usage.outputTokens);
    expect(sum('gen_ai.usage.input_tokens')).toBe(
      usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
    );
    // Content is off by default.
    for (const span of spans) {
      expect(
        Object.keys(span.attributes).filter((key) => /messages|instructions|arguments|result/.test(key)),
      ).toEqual([]);
    }
  });

  it('data-analysis: a new root trace, execute_tool spans for run_code in the agent step', async () => {
    const view = await run('data-analysis', DATA);
    expect(view.status).toBe('Completed');
    const { spans, start } = checkTree(view.id, 'data-analysis');
    expect(start.parentSpanContext).toBeUndefined();
    const tools = spans.filter((span) => attr(span, 'gen_ai.operation.name') === 'execute_tool');
    expect(tools.length).toBeGreaterThanOrEqual(1);
    for (const tool of tools) {
      expect(tool.name).toBe('execute_tool run_code');
      expect(tool.attributes).toMatchObject({
        'gen_ai.tool.name': 'run_code',
        'gen_ai.tool.type': 'function',
        'gen_ai.tool.call.id': expect.any(String) as unknown,
        'durable_agents.step_id': 'analyze',
      });
    }
    const steps = new Set(chatSpans(spans).map((span) => attr(span, 'durable_agents.step_id')));
    expect(steps).toEqual(new Set(['plan', 'analyze', 'summary']));
  });

  it('captures prompts, answers and tool arguments only when switched on, with secrets redacted', async () => {
    process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = 'true';
    const secret = 'sk-live0123456789abcdefXYZ';
    const view = await run('ticket-triage', {
      ...TICKET,
      body: `${TICKET.body} Here is my api_key=${secret} and Bearer ${secret}.`,
    });
    const chats = chatSpans(spansOf(view.id));
    const classify = chats.find((span) => attr(span, 'durable_agents.step_id') === 'classify')!;
    const input = String(attr(classify, 'gen_ai.input.messages'));
    const messages = JSON.parse(input) as { role: string; parts: { type: string; content?: string }[] }[];
    expect(messages[0]?.role).toBe('user');
    expect(messages[0]?.parts[0]?.type).toBe('text');
    expect(input).toContain('Charged twice this month');
    expect(input).not.toContain(secret);
    expect(input).toContain('[redacted]');
    expect(String(attr(classify, 'gen_ai.system_instructions'))).toContain(
      'You triage customer support tickets',
    );
    const output = JSON.parse(String(attr(classify, 'gen_ai.output.messages'))) as {
      role: string;
      finish_reason: string;
    }[];
    expect(output).toMatchObject([{ role: 'assistant', finish_reason: 'stop' }]);
  });
});
