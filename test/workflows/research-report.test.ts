import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  afterToolResults,
  startWorkflowHarness,
  structuredResponse,
  toolError,
  toolUseResponse,
  type ModelStepScript,
  type ToolCall,
  type WorkflowHarness,
} from 'durable-agents/testing';

/**
 * research-report through the testing harness: the planner, one worker agent per question (web_search
 * and fetch_url scripted), the writer, and the optional review approval (approved, or timed out by
 * fast-forwarding the clock a day).
 */
const WORKFLOW = path.resolve(__dirname, '../../workflows/research-report.yaml');
const QUESTIONS = ['What is durable execution in workflow engines?', 'How do agent frameworks checkpoint?'];
const REPORT = {
  title: 'Durable execution for agents',
  summary: 'Checkpointing makes agents survive crashes.',
  sections: [{ heading: 'Checkpoints', body: 'Each call is recorded.', sources: ['https://example.org/a'] }],
};

let harness: WorkflowHarness;

const searchTool = (call: ToolCall) => ({
  results: [{ title: `On ${String(call.arguments.query)}`, url: 'https://example.org/a' }],
});

beforeAll(async () => {
  harness = await startWorkflowHarness({
    workflows: WORKFLOW,
    storage: inject('azuriteConnectionString'),
    tools: {
      web_search: searchTool,
      fetch_url: 'Durable execution records every step so a run resumes where it stopped.',
    },
  });
});

afterAll(async () => {
  await harness?.stop();
});

/** Plan, then per question: search, read a page, answer; then the report. */
function script(): ModelStepScript[] {
  return [
    { step: 'plan', role: 'planner', respond: structuredResponse({ questions: QUESTIONS }) },
    ...QUESTIONS.flatMap((question, index): ModelStepScript[] => [
      {
        step: `research:${index}`,
        match: afterToolResults(0),
        respond: toolUseResponse('web_search', { query: question }),
      },
      {
        step: `research:${index}`,
        match: afterToolResults(1),
        respond: toolUseResponse('fetch_url', { url: 'https://example.org/a' }),
      },
      {
        step: `research:${index}`,
        match: afterToolResults(2),
        respond: structuredResponse({
          question,
          answer: `Answer to: ${question}`,
          confidence: 'high',
          sources: [{ url: 'https://example.org/a', title: 'A' }],
        }),
      },
    ]),
    { step: 'report', role: 'writer', respond: structuredResponse(REPORT) },
  ];
}

describe('research-report workflow', () => {
  it('researches every question with the tools, writes the report and waits for approval', async () => {
    harness.expectModel(...script());
    const calls = harness.toolCalls.length;
    const run = await harness.start('research-report', {
      topic: 'Durable execution for agents',
      questions: 2,
      requireApproval: true,
    });
    const waiting = await run.waitForApproval();
    expect(waiting.event).toBe('review');
    expect(waiting.message).toBe(
      'The report "Durable execution for agents" on Durable execution for agents is ready for review.',
    );
    await run.approve({ by: 'alice', comment: 'ship it' });
    const result = await run.result();
    harness.model.assertDone();

    expect(result).toMatchObject({ status: 'Completed', outcome: 'completed', output: REPORT });
    expect(result.ledger.map((row) => [row.stepId, row.role, row.calls])).toEqual([
      ['plan', 'planner', 1],
      ['research', 'worker', 6],
      ['report', 'writer', 1],
    ]);
    expect(result.timeline.map((step) => [step.stepId, step.status])).toEqual([
      ['plan', 'completed'],
      ['research', 'completed'],
      ['report', 'completed'],
      ['review', 'completed'],
    ]);
    expect(result.detail.approvals).toEqual([
      expect.objectContaining({ approved: true, by: 'alice', comment: 'ship it' }),
    ]);
    const used = harness.toolCalls.slice(calls);
    expect(used.map((call) => call.tool).sort()).toEqual([
      'fetch_url',
      'fetch_url',
      'web_search',
      'web_search',
    ]);
    expect(used.filter((call) => call.tool === 'web_search').map((call) => call.arguments.query)).toEqual(
      expect.arrayContaining(QUESTIONS),
    );
    expect(used.every((call) => call.stepId.startsWith('research:'))).toBe(true);
    // The writer got every answer the agents gave.
    const writer = harness.model.requests.findLast((request) => request.view?.model === 'gpt-5.4');
    for (const question of QUESTIONS) expect(writer?.view?.lastUserText).toContain(`Answer to: ${question}`);
    await run.assertReplays();
  });

  it('completes without a decision once the one-day review times out', async () => {
    harness.expectModel(...script());
    const run = await harness.start('research-report', {
      topic: 'Durable execution for agents',
      questions: 2,
      requireApproval: true,
    });
    const waiting = await run.waitForApproval();
    const until = Date.parse(waiting.until);
    expect(until - harness.clock.now()).toBeGreaterThan(23 * 3600_000);
    await harness.advanceTime('P1D');
    const result = await run.result();
    harness.model.assertDone();

    expect(result).toMatchObject({ status: 'Completed', outcome: 'completed', output: REPORT });
    expect(result.detail.approvals).toEqual([]);
    expect(result.timeline.at(-1)).toMatchObject({ stepId: 'review', status: 'completed' });
    await run.assertReplays();
  });

  it('hands a failing search back to the model as a tool error', async () => {
    harness.scriptTool('web_search', toolError('search backend unavailable', 'upstream_error', true));
    try {
      harness.expectModel(
        { step: 'plan', respond: structuredResponse({ questions: [QUESTIONS[0]] }) },
        {
          step: 'research:0',
          match: afterToolResults(0),
          respond: toolUseResponse('web_search', { query: QUESTIONS[0] }),
        },
        {
          step: 'research:0',
          match: (request) => JSON.stringify(request.body).includes('search backend unavailable'),
          respond: structuredResponse({
            question: QUESTIONS[0],
            answer: 'No sources could be searched.',
            confidence: 'low',
            sources: [],
          }),
        },
        { step: 'report', respond: structuredResponse(REPORT) },
      );
      const run = await harness.start('research-report', { topic: 'Durable execution', questions: 1 });
      const result = await run.result();
      harness.model.assertDone();

      expect(result.outcome).toBe('completed');
      expect(harness.toolCalls.at(-1)).toMatchObject({
        tool: 'web_search',
        result: { isError: true, errorKind: 'upstream_error', content: 'search backend unavailable' },
      });
      expect(result.timeline.map((step) => step.stepId)).toEqual(['plan', 'research', 'report', 'review']);
      expect(result.timeline.at(-1)?.status).toBe('skipped');
      await run.assertReplays();
    } finally {
      harness.scriptTool('web_search', searchTool);
    }
  });
});
