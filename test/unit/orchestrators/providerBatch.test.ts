import { describe, expect, it } from 'vitest';
import { batchCustomId, resendable } from '../../../src/orchestrators/providerBatchStep.js';
import { DEFAULT_MODEL_BATCH, pollIntervalMs } from '../../../src/orchestrators/providerBatch.js';
import { runWorkflowOrchestrator } from '../../../src/orchestrators/runWorkflow.js';
import {
  CollectModelBatchResultsInput,
  ModelBatchHandle,
  SubmitModelBatchInput,
  type ModelBatchItemResult,
  type ModelBatchFailure,
} from '../../../src/shared/providerBatchTypes.js';
import { Names } from '../../../src/shared/names.js';
import type { RunProgress, RunWorkflowOutput } from '../../../src/shared/runTypes.js';
import { FakeOrchestrationContext, drive } from '../../fakes/orchestrationContext.js';
import { NOW, answer, runtime, structured, usage, type Observed } from './scriptedRuntime.js';
import { definition, runInput, settleRun } from './workflowFixtures.js';

/** A provider batch service: ends after `inProgressPolls` polls; `answer` decides each request's result. */
interface FakeBatchOptions {
  inProgressPolls?: number;
  submitFailures?: ModelBatchFailure[];
  pollFailures?: ModelBatchFailure[];
  answer?: (
    request: SubmitModelBatchInput['requests'][number],
    index: number,
  ) => ModelBatchItemResult['result'];
}

interface FakeBatchService {
  readonly handler: (name: string, input: unknown) => unknown;
  readonly submitted: SubmitModelBatchInput[];
  readonly calls: string[];
  readonly collected: CollectModelBatchResultsInput[];
}

const transient = (
  kind: ModelBatchFailure['kind'] = 'rate_limited',
  extra: Partial<ModelBatchFailure> = {},
) =>
  ({
    ok: false,
    kind,
    retryable: true,
    message: 'slow down',
    provider: 'anthropic',
    deployment: 'claude-haiku-4-5',
    ...extra,
  }) satisfies ModelBatchFailure;

function fakeBatchService(options: FakeBatchOptions = {}): FakeBatchService {
  const submitted: SubmitModelBatchInput[] = [];
  const collected: CollectModelBatchResultsInput[] = [];
  const calls: string[] = [];
  const submitFailures = [...(options.submitFailures ?? [])];
  const pollFailures = [...(options.pollFailures ?? [])];
  let polls = 0;
  const handler = (name: string, raw: unknown): unknown => {
    calls.push(name);
    switch (name) {
      case Names.activities.submitModelBatch: {
        const failure = submitFailures.shift();
        if (failure) return failure;
        const input = SubmitModelBatchInput.parse(raw);
        submitted.push(input);
        return {
          ok: true,
          provider: 'anthropic',
          deployment: 'claude-haiku-4-5',
          batchIds: ['msgbatch_1'],
          requestCount: input.requests.length,
        };
      }
      case Names.activities.pollModelBatch: {
        ModelBatchHandle.parse(raw);
        const failure = pollFailures.shift();
        if (failure) return failure;
        polls += 1;
        const total = submitted.at(-1)?.requests.length ?? 0;
        const ended = polls > (options.inProgressPolls ?? 0);
        return {
          ok: true,
          state: ended ? 'ended' : 'in_progress',
          counts: {
            processing: ended ? 0 : total,
            succeeded: ended ? total : 0,
            errored: 0,
            canceled: 0,
            expired: 0,
          },
        };
      }
      case Names.activities.collectModelBatchResults: {
        collected.push(CollectModelBatchResultsInput.parse(raw));
        const requests = submitted.at(-1)?.requests ?? [];
        return {
          ok: true,
          // Providers answer in any order.
          results: requests
            .map((request, index) => ({
              customId: request.customId,
              result:
                options.answer?.(request, index) ??
                answer(`answer to ${JSON.stringify(request.messages[0]?.content[0])}`, batchFields),
            }))
            .reverse(),
        };
      }
      case Names.activities.cancelModelBatch:
        ModelBatchHandle.parse(raw);
        return { ok: true };
      default:
        throw new Error(`unexpected activity ${name}`);
    }
  };
  return { handler, submitted, calls, collected };
}

const batchFields = {
  provider: 'anthropic' as const,
  deployment: 'claude-haiku-4-5',
  costUsd: 0.0005,
  latencyMs: 0,
  offline: false,
};

interface BatchRun {
  readonly output: RunWorkflowOutput;
  readonly context: FakeOrchestrationContext;
  readonly observed: Observed;
  /** Fire times of every durable timer, as offsets from the start in ms. */
  readonly timers: number[];
}

/** Runs the workflow with a clock that moves to each timer's fire time, as the durable runtime's does. */
function runWithBatches(input: unknown, service: FakeBatchService): BatchRun {
  const context = new FakeOrchestrationContext(input, NOW, 'run-1');
  const observed: Observed = { rounds: [], races: [], models: [], saves: [] };
  const base = runtime({ activity: service.handler }, observed);
  const timers: number[] = [];
  const { output } = settleRun(
    () =>
      drive(runWorkflowOrchestrator, context, (task) => {
        if (task.kind === 'timer' && task.fireAt) {
          context.df.currentUtcDateTime = new Date(task.fireAt);
          timers.push(Date.parse(task.fireAt) - NOW.getTime());
        }
        return base(task);
      }),
    true,
  );
  return { output, context, observed, timers };
}

const classifyMap = (extra: Record<string, unknown> = {}, step: Record<string, unknown> = {}) =>
  definition([
    {
      id: 'classify',
      kind: 'map',
      over: 'input.tickets',
      concurrency: 2,
      step: {
        id: 'one',
        kind: 'llm',
        role: 'worker',
        batch: true,
        system: 'Label tickets.',
        prompt: 'Ticket {{ index }}: {{ item }}',
        maxTokens: 200,
        ...step,
      },
      ...extra,
    },
  ]);

const tickets = ['refund please', 'site down', 'skip me', 'add dark mode', 'login fails'];

describe('runWorkflow: a map over a batch: true llm step', () => {
  it('submits every enabled item as one batch, polls on backing-off durable timers, and returns outputs in item order', () => {
    const service = fakeBatchService({ inProgressPolls: 2 });
    const def = classifyMap({}, { when: '{{ item != "skip me" }}' });
    const { output, observed, timers, context } = runWithBatches(runInput(def, { tickets }), service);

    expect(output.outcome).toBe('completed');
    expect(observed.models).toHaveLength(0);
    expect(service.submitted).toHaveLength(1);
    const submitted = service.submitted[0]!;
    expect(submitted).toMatchObject({ role: 'worker', runId: 'run-1', stepId: 'classify', maxTokens: 200 });
    expect(submitted.requests.map((r) => r.customId)).toEqual([
      'classify-0',
      'classify-1',
      'classify-3',
      'classify-4',
    ]);
    expect(submitted.requests[1]).toEqual({
      customId: 'classify-1',
      system: 'Label tickets.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Ticket 1: site down' }] }],
    });
    // concurrency: 2 does not apply: one submit, then timers, polls and one collect.
    expect(service.calls).toEqual([
      'submitModelBatch',
      'pollModelBatch',
      'pollModelBatch',
      'pollModelBatch',
      'collectModelBatchResults',
    ]);
    expect(timers).toEqual([30_000, 90_000, 210_000]);
    expect(output.output).toEqual([
      'answer to {"type":"text","text":"Ticket 0: refund please"}',
      'answer to {"type":"text","text":"Ticket 1: site down"}',
      null,
      'answer to {"type":"text","text":"Ticket 3: add dark mode"}',
      'answer to {"type":"text","text":"Ticket 4: login fails"}',
    ]);
    expect(output.ledger.rows).toEqual([
      {
        stepId: 'classify',
        role: 'worker',
        provider: 'anthropic',
        deployment: 'claude-haiku-4-5',
        calls: 4,
        usage: { inputTokens: 400, outputTokens: 200, cacheWriteTokens: 0, cacheReadTokens: 0 },
        costUsd: 0.002,
        offline: false,
        batch: true,
      },
    ]);

    const statuses = context.customStatuses as RunProgress[];
    const progress = statuses.flatMap((s) => (s.batch ? [s.batch] : []));
    expect(progress[0]).toEqual({
      stepId: 'classify',
      provider: 'anthropic',
      batchIds: ['msgbatch_1'],
      total: 4,
      succeeded: 0,
      errored: 0,
      processing: 4,
    });
    expect(progress.at(-1)).toMatchObject({ succeeded: 4, processing: 0 });
    expect(statuses.at(-1)?.batch).toBeUndefined();
    expect(statuses.at(-1)?.map).toBeUndefined();
  });

  it('parses structured answers and carries the output schema to the collect step', () => {
    const schema = { type: 'object', properties: { label: { type: 'string' } } };
    const service = fakeBatchService({
      answer: (_, index) => structured({ label: `l${index}` }, batchFields),
    });
    const { output } = runWithBatches(
      runInput(classifyMap({}, { outputSchema: schema }), { tickets: tickets.slice(0, 2) }),
      service,
    );
    expect(output.output).toEqual([{ label: 'l0' }, { label: 'l1' }]);
    expect(service.submitted[0]?.outputSchema).toEqual(schema);
    expect(service.collected[0]?.outputSchema).toEqual(schema);
  });

  it('fails the run like a failed map item when one request errored, with every answer still booked', () => {
    const service = fakeBatchService({
      answer: (_, index) =>
        index === 3
          ? { ok: false, kind: 'bad_request', retryable: false, status: 400, message: 'prompt is too long' }
          : answer('fine', batchFields),
    });
    const { output } = runWithBatches(runInput(classifyMap(), { tickets }), service);
    expect(output).toMatchObject({
      outcome: 'failed',
      error: {
        stepId: 'classify:3',
        kind: 'bad_request',
        message: 'anthropic/claude-haiku-4-5: prompt is too long',
      },
    });
    expect(output.ledger.rows[0]).toMatchObject({ calls: 4, batch: true });
    expect(output.timeline?.[0]).toMatchObject({ stepId: 'classify', status: 'failed' });
  });

  it('re-sends only the retryable and unprocessed requests as a follow-up batch, booking every answer once', () => {
    const failures: Record<string, ModelBatchItemResult['result']> = {
      'classify-1': { ok: false, kind: 'rate_limited', retryable: true, status: 429, message: 'slow down' },
      'classify-3': { ok: false, kind: 'expired', retryable: false, message: 'the batch expired' },
      'classify-4': { ok: false, kind: 'overloaded', retryable: true, status: 529, message: 'overloaded' },
    };
    const batchNumber = () => service.submitted.length;
    const service: FakeBatchService = fakeBatchService({
      answer: (request) =>
        (batchNumber() === 1 ? failures[request.customId] : undefined) ??
        answer(`answer ${request.customId} in batch ${batchNumber()}`, batchFields),
    });
    const { output } = runWithBatches(runInput(classifyMap(), { tickets }), service);

    expect(output.outcome).toBe('completed');
    expect(service.submitted.map((s) => s.requests.map((r) => r.customId))).toEqual([
      ['classify-0', 'classify-1', 'classify-2', 'classify-3', 'classify-4'],
      ['classify-1', 'classify-3', 'classify-4'],
    ]);
    // The follow-up is the same step's batch: same role, schema and limits.
    expect(service.submitted[1]).toMatchObject({ role: 'worker', stepId: 'classify', maxTokens: 200 });
    expect(output.output).toEqual([
      'answer classify-0 in batch 1',
      'answer classify-1 in batch 2',
      'answer classify-2 in batch 1',
      'answer classify-3 in batch 2',
      'answer classify-4 in batch 2',
    ]);
    expect(output.ledger.rows).toEqual([
      expect.objectContaining({ stepId: 'classify', calls: 5, costUsd: 0.0025, batch: true }),
    ]);
  });

  it('fails the step with the item’s own failure once the follow-up batches run out', () => {
    const service = fakeBatchService({
      answer: (request, index) =>
        request.customId === 'classify-2'
          ? { ok: false, kind: 'server_error', retryable: true, status: 500, message: 'internal error' }
          : answer(`fine ${index}`, batchFields),
    });
    const { output } = runWithBatches(
      runInput(classifyMap(), { tickets: tickets.slice(0, 3) }, { options: { modelRetry: { maxTries: 3 } } }),
      service,
    );
    // Three batches in all (modelRetry.maxTries): the first with every request, then only classify-2.
    expect(service.submitted.map((s) => s.requests.length)).toEqual([3, 1, 1]);
    expect(output).toMatchObject({
      outcome: 'failed',
      error: {
        stepId: 'classify:2',
        kind: 'server_error',
        message: 'anthropic/claude-haiku-4-5: internal error',
      },
    });
    expect(output.ledger.rows[0]).toMatchObject({ calls: 2, batch: true });
  });

  it('re-sends what a retry may fix, never a bad request', () => {
    expect(resendable({ ok: false, kind: 'rate_limited', retryable: true, message: '' })).toBe(true);
    expect(resendable({ ok: false, kind: 'expired', retryable: false, message: '' })).toBe(true);
    expect(resendable({ ok: false, kind: 'canceled', retryable: false, message: '' })).toBe(true);
    expect(resendable({ ok: false, kind: 'bad_request', retryable: false, message: '' })).toBe(false);
    expect(resendable({ ok: false, kind: 'invalid_output', retryable: false, message: '' })).toBe(false);
  });

  it('fails an item the provider returned no result for', () => {
    const service = fakeBatchService();
    const handler = service.handler;
    const dropping = {
      ...service,
      handler: (name: string, input: unknown) => {
        const result = handler(name, input) as { results?: ModelBatchItemResult[] };
        if (name !== Names.activities.collectModelBatchResults || !result.results) return result;
        return { ...result, results: result.results.filter((r) => r.customId !== 'classify-1') };
      },
    };
    const { output } = runWithBatches(runInput(classifyMap(), { tickets: tickets.slice(0, 3) }), dropping);
    expect(output.error).toMatchObject({ stepId: 'classify:1', kind: 'missing_result' });
  });

  it('cancels the batch and fails the step once the maximum wait has passed', () => {
    const service = fakeBatchService({ inProgressPolls: Number.POSITIVE_INFINITY });
    const options = { modelBatch: { initialPollMs: 60_000, maxPollMs: 600_000, maxWaitMs: 3_600_000 } };
    const { output, timers } = runWithBatches(
      runInput(classifyMap(), { tickets: tickets.slice(0, 2) }, { options }),
      service,
    );
    expect(output).toMatchObject({ outcome: 'failed', error: { stepId: 'classify', kind: 'batch_timeout' } });
    expect(output.error?.message).toMatch(/anthropic batch msgbatch_1 did not finish within 1 h .*canceled/);
    expect(service.calls.at(-1)).toBe(Names.activities.cancelModelBatch);
    expect(service.calls).not.toContain(Names.activities.collectModelBatchResults);
    // 1, 2, 4, 8, 10, 10, 10 min, … and the last poll exactly at the deadline.
    expect(timers.slice(0, 5)).toEqual([60_000, 180_000, 420_000, 900_000, 1_500_000]);
    expect(timers.at(-1)).toBe(3_600_000);
  });

  it('retries a transient submit failure after its retry-after, and rides out a failed poll', () => {
    const service = fakeBatchService({
      submitFailures: [transient('rate_limited', { retryAfterMs: 5_000 })],
      pollFailures: [transient('server_error')],
    });
    const { output, timers } = runWithBatches(
      runInput(classifyMap(), { tickets: tickets.slice(0, 1) }),
      service,
    );
    expect(output.outcome).toBe('completed');
    expect(service.calls).toEqual([
      'submitModelBatch',
      'submitModelBatch',
      'pollModelBatch',
      'pollModelBatch',
      'collectModelBatchResults',
    ]);
    expect(timers).toEqual([5_000, 35_000, 95_000]);
  });

  it('stops with the provider’s reason when no deployment of the role has a batch API', () => {
    const service = fakeBatchService({
      submitFailures: [
        {
          ...transient('batch_unsupported'),
          retryable: false,
          provider: 'foundry',
          message: 'role "worker" runs on foundry:claude-haiku-4-5, and Microsoft Foundry has no batch API',
        },
      ],
    });
    const { output } = runWithBatches(runInput(classifyMap(), { tickets }), service);
    expect(output).toMatchObject({
      outcome: 'failed',
      error: { stepId: 'classify', kind: 'batch_unsupported' },
    });
    expect(output.error?.message).toContain('Microsoft Foundry has no batch API');
    expect(service.calls).toEqual(['submitModelBatch']);
  });

  it('schedules exactly the same calls when replayed with the same results', () => {
    const schedule = () => {
      const { context } = runWithBatches(
        runInput(classifyMap(), { tickets }),
        fakeBatchService({ inProgressPolls: 3 }),
      );
      return context.calls;
    };
    const first = schedule();
    expect(first.filter((c) => c.kind === 'timer')).toHaveLength(4);
    expect(schedule()).toEqual(first);
  });

  it('returns an empty list for an empty map without submitting anything', () => {
    const service = fakeBatchService();
    const { output } = runWithBatches(runInput(classifyMap(), { tickets: [] }), service);
    expect(output).toMatchObject({ outcome: 'completed', output: [] });
    expect(service.calls).toEqual([]);
  });
});

describe('runWorkflow: a batch: true llm step outside a map', () => {
  it('is a batch of one', () => {
    const service = fakeBatchService({
      answer: () => answer('a summary', { ...batchFields, usage: usage(10, 5) }),
    });
    const def = definition([
      { id: 'summary', kind: 'llm', role: 'writer', batch: true, prompt: 'Summarize {{ input.text }}' },
    ]);
    const { output } = runWithBatches(runInput(def, { text: 'the quarter' }), service);
    expect(output).toMatchObject({ outcome: 'completed', output: 'a summary' });
    expect(service.submitted[0]?.requests).toEqual([
      {
        customId: 'summary-0',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarize the quarter' }] }],
      },
    ]);
    expect(output.ledger.rows).toMatchObject([{ stepId: 'summary', role: 'writer', calls: 1, batch: true }]);
  });
});

describe('batch custom ids and poll intervals', () => {
  it('keeps custom ids within the characters and length batch APIs accept', () => {
    expect(batchCustomId('classify', 7)).toBe('classify-7');
    expect(batchCustomId('views.short', 0)).toBe('views-short-0');
    const long = batchCustomId('x'.repeat(100), 99_999);
    expect(long).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it('starts at the first interval and doubles up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 40].map((polls) => pollIntervalMs(DEFAULT_MODEL_BATCH, polls))).toEqual([
      30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000,
    ]);
  });
});
