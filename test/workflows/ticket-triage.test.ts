import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  errorResponse,
  startWorkflowHarness,
  structuredResponse,
  type WorkflowHarness,
} from 'durable-agents/testing';

/**
 * ticket-triage through the testing harness (durable-agents/testing): the real app on the local host,
 * the worker and planner roles answered by the scripted model per step.
 */
const WORKFLOW = path.resolve(__dirname, '../../workflows/ticket-triage.yaml');
const TICKET = { subject: 'Invoice charged twice', body: 'We were billed twice for November.' };

let harness: WorkflowHarness;

beforeAll(async () => {
  harness = await startWorkflowHarness({
    workflows: WORKFLOW,
    storage: inject('azuriteConnectionString'),
    // Retry back-offs are durable timers: skip them instead of waiting.
    autoSkipTimers: true,
  });
});

afterAll(async () => {
  await harness?.stop();
});

const triage = (confidence: number, category = 'billing', priority = 'high') => ({
  category,
  priority,
  confidence,
  summary: `A ${category} ticket.`,
});

describe('ticket-triage workflow', () => {
  it('keeps a confident first pass and never calls the planner', async () => {
    harness.expectModel({
      step: 'classify',
      role: 'worker',
      respond: structuredResponse(triage(0.92), { inputTokens: 400, outputTokens: 40 }),
    });
    const run = await harness.start('ticket-triage', { ...TICKET, customerTier: 'enterprise' });
    const result = await run.result();
    harness.model.assertDone();

    expect(result).toMatchObject({ status: 'Completed', outcome: 'completed', error: null });
    expect(result.output).toEqual({ triage: triage(0.92), escalated: false });
    expect(result.ledger.map((row) => [row.stepId, row.role, row.calls, row.offline])).toEqual([
      ['classify', 'worker', 1, false],
    ]);
    expect(result.ledger[0]?.usage).toMatchObject({ inputTokens: 400, outputTokens: 40 });
    expect(result.totals?.costUsd).toBeGreaterThan(0);
    expect(result.timeline.map((step) => [step.stepId, step.status])).toEqual([
      ['classify', 'completed'],
      ['escalate', 'skipped'],
    ]);
    // The prompt the worker got carries the rendered input.
    const request = harness.model.requests.at(-1);
    expect(request?.view?.lastUserText).toContain('Customer tier: enterprise');
    expect(request?.view?.lastUserText).toContain('We were billed twice');
    await run.assertReplays();
  });

  it('escalates an unsure first pass to the planner and returns its answer', async () => {
    harness.expectModel(
      { step: 'classify', role: 'worker', respond: structuredResponse(triage(0.4, 'bug', 'normal')) },
      { step: 'escalate', role: 'planner', respond: structuredResponse(triage(0.9, 'billing', 'high')) },
    );
    const run = await harness.start('ticket-triage', TICKET);
    const result = await run.result();
    harness.model.assertDone();

    expect(result.output).toEqual({ triage: triage(0.9, 'billing', 'high'), escalated: true });
    expect(result.ledger.map((row) => [row.stepId, row.role])).toEqual([
      ['classify', 'worker'],
      ['escalate', 'planner'],
    ]);
    expect(result.timeline.map((step) => step.status)).toEqual(['completed', 'completed']);
    // The planner saw the first pass's answer.
    const planner = harness.model.requests.at(-1);
    expect(planner?.view?.lastUserText).toContain('"category":"bug"');
    const replay = await run.assertReplays();
    expect(replay.instances.length).toBe(1);
  });

  it('retries a rate-limited model call and books it once', async () => {
    harness.expectModel(
      {
        step: 'classify',
        name: 'rate limited',
        respond: errorResponse(429, { retryAfterSeconds: 30, message: 'slow down' }),
      },
      { step: 'classify', name: 'answer', respond: structuredResponse(triage(0.8)) },
    );
    const run = await harness.start('ticket-triage', TICKET);
    const result = await run.result();
    harness.model.assertDone();

    expect(result.outcome).toBe('completed');
    expect(result.ledger).toHaveLength(1);
    expect(result.ledger[0]?.calls).toBe(1);
    expect(result.timeline[0]).toMatchObject({ stepId: 'classify', status: 'completed' });
    expect(result.timeline[0]?.retries).toBeGreaterThanOrEqual(1);
    await run.assertReplays();
  });

  it('fails the run with the step named when the model keeps refusing the request', async () => {
    harness.expectModel(
      ...Array.from({ length: 1 }, () => ({
        step: 'classify',
        respond: errorResponse(400, { message: 'invalid request' }),
      })),
    );
    const run = await harness.start('ticket-triage', TICKET);
    const result = await run.result();
    harness.model.assertDone();

    expect(result.outcome).toBe('failed');
    expect(result.error).toMatchObject({ stepId: 'classify' });
    expect(result.timeline[0]).toMatchObject({ stepId: 'classify', status: 'failed' });
    await run.assertReplays();
  });

  it('rejects an input that does not match the workflow schema, naming the field', async () => {
    await expect(harness.start('ticket-triage', { subject: 'No body' })).rejects.toThrow(/400.*body/s);
  });
});
