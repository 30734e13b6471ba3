import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  afterToolResults,
  startWorkflowHarness,
  toolResultCount,
  structuredResponse,
  toolUseResponse,
  type ModelStepScript,
  type WorkflowHarness,
} from 'durable-agents/testing';

/**
 * data-analysis through the testing harness: the planner, the analyst agent running code over the CSV
 * in the real JavaScript sandbox (and a scripted run_code that fails once), and the writer's summary.
 */
const WORKFLOW = path.resolve(__dirname, '../../workflows/data-analysis.yaml');
const INPUT = {
  question: 'Which region grew revenue the most?',
  data: 'region,q1,q2\nnorth,120,150\nsouth,90,95\nwest,60,84\n',
};
const PLAN = {
  approach: 'difference per region',
  steps: ['q2 - q1', 'take the largest'],
  columns: ['q1', 'q2'],
  caveats: [],
};
const FINDINGS = {
  findings: [{ statement: 'north grew most, by 30', evidence: 'run_code printed ["north",30]' }],
  dataQuality: ['no missing values'],
  code: 'see transcript',
};
const SUMMARY = {
  headline: 'North grew most',
  answer: 'North grew by 30.',
  findings: [{ finding: 'north +30', evidence: 'run_code' }],
  caveats: [],
  method: 'Computed in the sandbox.',
};
const CODE = [
  'const rows = files["data.csv"].trim().split("\\n").slice(1).map((line) => line.split(","));',
  'const growth = rows.map(([region, q1, q2]) => [region, Number(q2) - Number(q1)]);',
  'console.log(JSON.stringify(growth.sort((a, b) => b[1] - a[1])[0]));',
].join('\n');

function script(): ModelStepScript[] {
  return [
    { step: 'plan', role: 'planner', respond: structuredResponse(PLAN) },
    {
      step: 'analyze',
      role: 'worker',
      match: afterToolResults(0),
      respond: toolUseResponse('run_code', { language: 'javascript', code: CODE }),
    },
    {
      step: 'analyze',
      match: afterToolResults(1),
      respond: structuredResponse(FINDINGS),
    },
    { step: 'summary', role: 'writer', respond: structuredResponse(SUMMARY) },
  ];
}

let harness: WorkflowHarness;

beforeAll(async () => {
  harness = await startWorkflowHarness({
    workflows: WORKFLOW,
    storage: inject('azuriteConnectionString'),
    // Activity retry back-offs are durable timers: skip them instead of waiting.
    autoSkipTimers: true,
  });
});

afterAll(async () => {
  await harness?.stop();
});

describe('data-analysis workflow', () => {
  it('computes the answer over the CSV in the real sandbox and summarises it', async () => {
    harness.expectModel(...script());
    const run = await harness.start('data-analysis', INPUT);
    const result = await run.result();
    harness.model.assertDone();

    expect(result).toMatchObject({ status: 'Completed', outcome: 'completed', output: SUMMARY });
    // The sandbox read data.csv and printed the largest growth, which went back to the analyst.
    const second = harness.model.requests.findLast((request) => toolResultCount(request) === 1);
    expect(JSON.stringify(second?.body)).toContain('[\\"north\\",30]');
    // The plan reached the analyst, and the findings the writer.
    const analyst = harness.model.requests.find((request) => request.view?.model === 'claude-haiku-4-5');
    expect(analyst?.view?.lastUserText).toContain('difference per region');
    const writer = harness.model.requests.findLast((request) => request.view?.model === 'gpt-5.4');
    expect(writer?.view?.lastUserText).toContain('north grew most, by 30');
    expect(result.ledger.map((row) => [row.stepId, row.role, row.calls])).toEqual([
      ['plan', 'planner', 1],
      ['analyze', 'worker', 2],
      ['summary', 'writer', 1],
    ]);
    expect(result.timeline.map((step) => [step.stepId, step.status, step.toolCalls])).toEqual([
      ['plan', 'completed', 0],
      ['analyze', 'completed', 1],
      ['summary', 'completed', 0],
    ]);
    await run.assertReplays();
  });

  it('retries a tool activity that crashed and goes on with its second answer', async () => {
    let attempts = 0;
    harness.scriptTool('run_code', () => {
      attempts += 1;
      if (attempts === 1) throw new Error('sandbox host went away');
      return '["north",30]';
    });
    try {
      harness.expectModel(...script());
      const run = await harness.start('data-analysis', INPUT);
      const result = await run.result();
      harness.model.assertDone();

      expect(result.outcome).toBe('completed');
      expect(attempts).toBe(2);
      expect(harness.toolCalls.slice(-2).map((call) => call.thrown ?? call.result?.content)).toEqual([
        'sandbox host went away',
        '["north",30]',
      ]);
      expect(result.timeline.find((step) => step.stepId === 'analyze')?.retries).toBeGreaterThanOrEqual(1);
      await run.assertReplays();
    } finally {
      harness.scriptTool('run_code', undefined);
    }
  });

  it('stops the run with budget_exceeded when the model spends past the budget', async () => {
    harness.expectModel({
      step: 'plan',
      respond: structuredResponse(PLAN, { inputTokens: 500_000, outputTokens: 100 }),
    });
    const run = await harness.start('data-analysis', INPUT);
    const result = await run.result();
    harness.model.assertDone();

    expect(result.outcome).toBe('budget_exceeded');
    expect(result.ledger.map((row) => row.stepId)).toEqual(['plan']);
    await run.assertReplays();
  });
});
