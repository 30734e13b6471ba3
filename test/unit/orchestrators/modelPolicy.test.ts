import { describe, expect, it } from 'vitest';
import {
  INFRASTRUCTURE_RETRY,
  backoffMs,
  DEFAULT_MODEL_RETRY,
  repairPrompt,
} from '../../../src/orchestrators/modelPolicy.js';
import type { FakeTask } from '../../fakes/orchestrationContext.js';
import { answer, failure, scripted, structured, toolResult, toolUse } from './scriptedRuntime.js';
import { definition, realChildren, runInput, runWorkflow } from './workflowFixtures.js';

const oneCall = definition([{ id: 'ask', kind: 'llm', role: 'planner', prompt: 'Hi' }]);

/** The model calls and timers, in order, as [attempt] and ['timer', fireAt]. */
function timeline(calls: { kind: string; name?: string; input?: unknown; fireAt?: string }[]) {
  return calls.map((c) =>
    c.kind === 'timer' ? ['timer', c.fireAt] : [c.name, (c.input as { attempt: number }).attempt],
  );
}

describe('model-call policy', () => {
  it('waits retryAfterMs on a durable timer and retries the same deployment', () => {
    const { output, context } = runWorkflow(runInput(oneCall), {
      model: scripted([failure({ retryAfterMs: 7_000 }), answer('hello')]),
    });
    expect(timeline(context.calls)).toEqual([
      ['callModel', 0],
      ['timer', '2026-01-01T00:00:07.000Z'],
      ['callModel', 0],
    ]);
    expect(output).toMatchObject({ outcome: 'completed', output: 'hello' });
  });

  it('backs off 1 s, 2 s, 4 s without retry-after, then falls back to the next deployment', () => {
    const { output, context, observed } = runWorkflow(runInput(oneCall), {
      model: scripted([
        failure({ kind: 'overloaded', fallbackAvailable: true }),
        failure({ kind: 'overloaded', fallbackAvailable: true }),
        failure({ kind: 'overloaded', fallbackAvailable: true }),
        failure({ kind: 'overloaded', fallbackAvailable: true }),
        answer('from the fallback', { provider: 'azure-openai', deployment: 'gpt-5' }),
      ]),
    });
    expect(timeline(context.calls)).toEqual([
      ['callModel', 0],
      ['timer', '2026-01-01T00:00:01.000Z'],
      ['callModel', 0],
      ['timer', '2026-01-01T00:00:02.000Z'],
      ['callModel', 0],
      ['timer', '2026-01-01T00:00:04.000Z'],
      ['callModel', 0],
      ['callModel', 1],
    ]);
    expect(observed.models.every((m) => m.role === 'planner' && m.stepId === 'ask')).toBe(true);
    expect(output.output).toBe('from the fallback');
    expect(output.ledger.rows).toMatchObject([{ provider: 'azure-openai', deployment: 'gpt-5', calls: 1 }]);
  });

  it('fails the step with the failure kind once retries and fallbacks run out', () => {
    const { output, context } = runWorkflow(
      runInput(oneCall, {}, { options: { modelRetry: { maxTries: 2 } } }),
      {
        model: scripted([failure({ status: 503, kind: 'server_error' }), failure({ kind: 'server_error' })]),
      },
    );
    expect(timeline(context.calls)).toEqual([
      ['callModel', 0],
      ['timer', '2026-01-01T00:00:01.000Z'],
      ['callModel', 0],
    ]);
    expect(output).toMatchObject({
      outcome: 'failed',
      output: null,
      error: {
        stepId: 'ask',
        kind: 'server_error',
        message: 'foundry/claude-haiku: slow down after 2 tries',
      },
    });
  });

  it('does not retry or fall back on a non-retryable failure', () => {
    const { output, context } = runWorkflow(runInput(oneCall), {
      model: scripted([
        failure({
          retryable: false,
          kind: 'bad_request',
          status: 400,
          message: 'bad schema',
          fallbackAvailable: true,
        }),
      ]),
    });
    expect(timeline(context.calls)).toEqual([['callModel', 0]]);
    expect(output.error).toEqual({
      stepId: 'ask',
      kind: 'bad_request',
      message: 'foundry/claude-haiku: bad schema',
    });
  });

  it('caps a huge retry-after', () => {
    const { context } = runWorkflow(
      runInput(oneCall, {}, { options: { modelRetry: { maxRetryAfterMs: 30_000 } } }),
      {
        model: scripted([failure({ retryAfterMs: 3_600_000 }), answer('ok')]),
      },
    );
    expect(context.calls[1]).toMatchObject({ kind: 'timer', fireAt: '2026-01-01T00:00:30.000Z' });
  });

  it('guards thrown activity errors with a bounded durable retry, then fails the step', () => {
    const scheduled: FakeTask[] = [];
    const { output } = runWorkflow(runInput(oneCall), {
      fault: (task) => {
        scheduled.push(task);
        return new Error('host timeout\n at stack');
      },
    });
    expect(scheduled[0]?.retry).toBe(INFRASTRUCTURE_RETRY);
    expect(INFRASTRUCTURE_RETRY.maxNumberOfAttempts).toBe(3);
    expect(output.error).toEqual({
      stepId: 'ask',
      kind: 'activity_failed',
      message: 'callModel failed: host timeout',
    });
  });

  it('retries a max_tokens stop once with double the limit, and books both answers', () => {
    const { output, observed } = runWorkflow(runInput(oneCall), {
      model: scripted([
        answer('The first half', {
          stopReason: 'max_tokens',
          limits: { maxTokens: 4096, maxOutputTokens: 64_000 },
        }),
        answer('The whole answer', { limits: { maxTokens: 8192, maxOutputTokens: 64_000 } }),
      ]),
    });
    expect(observed.models.map((m) => m.maxTokens)).toEqual([undefined, 8192]);
    expect(output).toMatchObject({ outcome: 'completed', output: 'The whole answer' });
    expect(output.ledger.rows).toMatchObject([{ stepId: 'ask', calls: 2 }]);
  });

  it('fails with max_tokens when the retry is cut off too, or no higher limit exists', () => {
    const cut = (maxTokens: number, maxOutputTokens?: number) =>
      answer('cut', {
        stopReason: 'max_tokens',
        limits: { maxTokens, ...(maxOutputTokens === undefined ? {} : { maxOutputTokens }) },
      });
    const twice = runWorkflow(runInput(oneCall), { model: scripted([cut(40_000, 128_000), cut(64_000)]) });
    // Doubling is capped at 64000, the most a callModel input may ask for.
    expect(twice.observed.models.map((m) => m.maxTokens)).toEqual([undefined, 64_000]);
    expect(twice.output.error).toEqual({
      stepId: 'ask',
      kind: 'max_tokens',
      message:
        'foundry/claude-haiku: the answer was cut off at max_tokens (64000), after one retry with a higher limit',
    });
    // gpt-4o writes at most 16,384 tokens: at that limit there is nothing to retry with.
    const atCap = runWorkflow(runInput(oneCall), { model: scripted([cut(16_384, 16_384)]) });
    expect(atCap.observed.models).toHaveLength(1);
    expect(atCap.output.error).toMatchObject({ kind: 'max_tokens' });
  });

  it('retries a cut-off tool call in an agent step instead of ending the loop', () => {
    const agentDef = definition([
      { id: 'dig', kind: 'agent', role: 'worker', prompt: 'Dig.', tools: ['web_search'], maxTurns: 4 },
    ]);
    const { output, observed } = runWorkflow(runInput(agentDef), {
      child: realChildren({
        model: scripted([
          toolUse([{ id: 'tu1', name: 'web_search', input: { q: 'ti' } }], '', {
            stopReason: 'max_tokens',
            limits: { maxTokens: 1000 },
          }),
          toolUse([{ id: 'tu1', name: 'web_search', input: { q: 'tides' } }]),
          answer('High tide at 6.'),
        ]),
        tool: (input) => toolResult(input, 'tide table'),
      }),
    });
    expect(observed.models).toEqual([]); // the agent runs in its own child orchestration
    expect(output).toMatchObject({ outcome: 'completed', output: 'High tide at 6.' });
  });

  it('falls back to the next deployment after a refusal, else fails with kind refusal', () => {
    const { output, context } = runWorkflow(runInput(oneCall), {
      model: scripted([
        answer("I can't help with that.", { stopReason: 'refusal', fallbackAvailable: true }),
        answer('Here it is.', { provider: 'azure-openai', deployment: 'gpt-5.4' }),
      ]),
    });
    expect(timeline(context.calls)).toEqual([
      ['callModel', 0],
      ['callModel', 1],
    ]);
    expect(output).toMatchObject({ outcome: 'completed', output: 'Here it is.' });
    expect(output.ledger.rows).toHaveLength(2); // the refusal was billed too
    const filtered = runWorkflow(runInput(oneCall), {
      model: scripted([answer('', { stopReason: 'content_filter', fallbackAvailable: false })]),
    });
    expect(filtered.output.error).toMatchObject({ kind: 'refusal' });
  });

  it('falls back at once on a context-window failure, without retrying the same deployment', () => {
    const tooLong = failure({
      kind: 'context_window_exceeded',
      retryable: false,
      status: 400,
      message: 'prompt is too long: 200251 tokens > 200000 maximum',
      fallbackAvailable: true,
    });
    const { output, context } = runWorkflow(runInput(oneCall), {
      model: scripted([tooLong, answer('fits', { deployment: 'claude-opus-4-8' })]),
    });
    expect(timeline(context.calls)).toEqual([
      ['callModel', 0],
      ['callModel', 1],
    ]);
    expect(output.output).toBe('fits');
    const last = runWorkflow(runInput(oneCall), {
      model: scripted([{ ...tooLong, fallbackAvailable: false }]),
    });
    expect(timeline(last.context.calls)).toEqual([['callModel', 0]]);
    expect(last.output.error).toEqual({
      stepId: 'ask',
      kind: 'context_window_exceeded',
      message: 'foundry/claude-haiku: prompt is too long: 200251 tokens > 200000 maximum',
    });
    const stopped = runWorkflow(runInput(oneCall), {
      model: scripted([
        answer('', { stopReason: 'context_window_exceeded', fallbackAvailable: true }),
        answer('fits'),
      ]),
    });
    expect(stopped.output.output).toBe('fits');
  });

  it('makes one repair call quoting the validation errors when a structured answer is off-schema', () => {
    const schemaStep = definition([
      { id: 'ask', kind: 'llm', role: 'planner', prompt: 'Hi', outputSchema: { type: 'object' } },
    ]);
    const offSchema = failure({
      kind: 'invalid_output',
      retryable: false,
      message: 'Structured answer does not match outputSchema: /n: expected number',
      answered: answer('{"n":"one"}'),
    });
    const { output, observed } = runWorkflow(runInput(schemaStep), {
      model: scripted([offSchema, structured({ n: 1 })]),
    });
    expect(output).toMatchObject({ outcome: 'completed', output: { n: 1 } });
    expect(observed.models[1]?.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: '{"n":"one"}' }] },
      {
        role: 'user',
        content: [{ type: 'text', text: repairPrompt(offSchema.message) }],
      },
    ]);
    expect(repairPrompt(offSchema.message)).toBe(
      'Your answer did not match the schema: /n: expected number. ' +
        'Answer again with only the JSON value, matching the schema exactly.',
    );
    expect(output.ledger.rows).toMatchObject([{ calls: 2 }]);

    const again = runWorkflow(runInput(schemaStep), { model: scripted([offSchema, offSchema]) });
    expect(again.observed.models).toHaveLength(2);
    expect(again.output.error).toEqual({
      stepId: 'ask',
      kind: 'invalid_output',
      message: `foundry/claude-haiku: ${offSchema.message} (after one repair call)`,
    });
  });

  it('fails on a refusal and on a structured step without a structured answer', () => {
    const refused = runWorkflow(runInput(oneCall), {
      model: scripted([answer('no', { stopReason: 'refusal' })]),
    });
    expect(refused.output.error).toMatchObject({ kind: 'refusal' });
    const schema = definition([
      { id: 'ask', kind: 'llm', role: 'planner', prompt: 'Hi', outputSchema: { type: 'object' } },
    ]);
    const other = runWorkflow(runInput(schema), {
      model: scripted([answer('{"a":', { stopReason: 'other' })]),
    });
    expect(other.output.error).toMatchObject({ kind: 'no_structured_output' });
  });

  it('computes capped exponential backoff', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffMs(DEFAULT_MODEL_RETRY, n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 60_000,
    ]);
  });
});
