import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCallModelActivity } from '../../../src/activities/callModel.js';
import { ModelConfigError, parseModelConfig, type ModelConfig } from '../../../src/config/models.js';
import { createModelProviders } from '../../../src/models/providers.js';
import type { CallModelInputArgs, CallModelResult, ModelMessage } from '../../../src/shared/modelTypes.js';
import type { PayloadRef } from '../../../src/shared/payloadRef.js';
import {
  delayed,
  errorResponse,
  rawResponse,
  startScriptedModel,
  structuredResponse,
  textResponse,
  type ScriptedModel,
} from '../../support/scriptedModel.js';

const FOUNDRY_KEY = 'foundry-callmodel-key-0123456789';
const hello: ModelMessage[] = [
  { role: 'user', content: [{ type: 'text', text: 'Plan a report on durable agents.' }] },
];
const base = { runId: 'run-1', stepId: 'plan' } as const;

let model: ScriptedModel;
beforeEach(async () => {
  model = await startScriptedModel();
});
afterEach(async () => {
  await model.stop();
});

function activityFor(
  env: Record<string, string> = {},
  extra: Partial<Parameters<typeof createCallModelActivity>[0]> = {},
) {
  const config: ModelConfig = parseModelConfig({
    FOUNDRY_BASE_URL: model.foundryBaseUrl,
    FOUNDRY_API_KEY: FOUNDRY_KEY,
    AZURE_OPENAI_ENDPOINT: model.url,
    AZURE_OPENAI_API_KEY: 'aoai-callmodel-key-0123456789',
    ...env,
  });
  let clock = 1_000;
  return createCallModelActivity({
    config: () => config,
    providers: (c) => createModelProviders(c),
    now: () => (clock += 250),
    ...extra,
  });
}

const call = (activity: ReturnType<typeof activityFor>, input: CallModelInputArgs) => activity(input);

describe('callModel activity', () => {
  it('routes the role, calls once, and prices the answer', async () => {
    model.expect({
      match: { path: '/anthropic/v1/messages', model: 'claude-opus-4-8' },
      respond: textResponse('Plan: …', { inputTokens: 2000, outputTokens: 400, cacheReadTokens: 10_000 }),
    });
    const result = await call(activityFor(), { ...base, role: 'planner', system: 'Plan.', messages: hello });
    expect(result).toEqual({
      ok: true,
      message: { role: 'assistant', content: [{ type: 'text', text: 'Plan: …' }] },
      stopReason: 'end_turn',
      usage: { inputTokens: 2000, outputTokens: 400, cacheWriteTokens: 0, cacheReadTokens: 10_000 },
      costUsd: 0.025, // 2000 × $5 + 400 × $25 + 10,000 × $0.50 per MTok
      priced: true,
      provider: 'foundry',
      deployment: 'claude-opus-4-8',
      model: 'claude-opus-4-8',
      offline: false,
      latencyMs: 250,
      // claude-opus-4-8: 1M window, 128K output (src/models/modelLimits.ts)
      limits: { maxTokens: 4096, maxOutputTokens: 128_000, contextWindow: 1_000_000 },
      fallbackAvailable: true,
    });
    expect((model.requests[0]?.body as Record<string, unknown>).max_tokens).toBe(4096);
    model.assertDone();
  });

  it('uses the fallback chain entry named by attempt', async () => {
    model.expect({
      match: { path: '/openai/v1/responses', model: 'gpt-5.4' },
      respond: textResponse('fallback answer'),
    });
    const result = await call(activityFor(), { ...base, role: 'planner', messages: hello, attempt: 1 });
    expect(result).toMatchObject({ ok: true, provider: 'azure-openai', deployment: 'gpt-5.4' });
    model.assertDone();
  });

  it('passes a reasoningEffort to GPT as reasoning.effort', async () => {
    model.expect({ respond: textResponse('gpt') });
    const gpt = await call(activityFor(), {
      ...base,
      role: 'writer',
      messages: hello,
      reasoningEffort: 'low',
    });
    expect(gpt).toMatchObject({ ok: true, provider: 'azure-openai' });
    expect(model.requests[0]?.body).toMatchObject({ reasoning: { effort: 'low' } });
    model.assertDone();
  });

  it('returns retryable failures with retry-after and whether a fallback is left', async () => {
    model.expect(
      { respond: errorResponse(429, { retryAfterSeconds: 2 }) },
      { respond: errorResponse(529, { retryAfterMs: 1500 }) },
    );
    const activity = activityFor();
    expect(await call(activity, { ...base, role: 'planner', messages: hello })).toEqual({
      ok: false,
      retryable: true,
      kind: 'rate_limited',
      status: 429,
      retryAfterMs: 2000,
      message: expect.stringContaining('429') as string,
      provider: 'foundry',
      deployment: 'claude-opus-4-8',
      fallbackAvailable: true,
    });
    expect(await call(activity, { ...base, role: 'worker', messages: hello })).toMatchObject({
      ok: false,
      kind: 'overloaded',
      retryAfterMs: 1500,
      fallbackAvailable: false,
    });
    expect(model.requests).toHaveLength(2); // SDK retries are off: one HTTP request per activity call
  });

  it('returns non-retryable failures without secrets', async () => {
    model.expect({ respond: errorResponse(401, { message: `invalid x-api-key ${FOUNDRY_KEY}` }) });
    const result = await call(activityFor(), { ...base, role: 'worker', messages: hello });
    expect(result).toMatchObject({ ok: false, retryable: false, kind: 'unauthorized', status: 401 });
    expect(JSON.stringify(result)).not.toContain(FOUNDRY_KEY);
  });

  it('validates structured answers against outputSchema', async () => {
    const outputSchema = {
      type: 'object',
      properties: { questions: { type: 'array', items: { type: 'string' }, minItems: 2 } },
      required: ['questions'],
    };
    model.expect(
      { respond: structuredResponse({ questions: ['a', 'b'] }) },
      { respond: structuredResponse({ questions: ['only one'] }) },
    );
    const activity = activityFor();
    const good = await call(activity, { ...base, role: 'writer', messages: hello, outputSchema });
    expect(good).toMatchObject({ ok: true, structured: { questions: ['a', 'b'] } });
    const bad = await call(activity, { ...base, role: 'planner', messages: hello, outputSchema });
    expect(bad).toMatchObject({ ok: false, kind: 'invalid_output', retryable: false });
    expect(bad.ok ? '' : bad.message).toContain('/questions');
    // The off-schema answer was billed: it comes back for the ledger and the repair call.
    expect(bad.ok ? undefined : bad.answered).toMatchObject({
      ok: true,
      message: { role: 'assistant', content: [{ type: 'text', text: '{"questions":["only one"]}' }] },
      deployment: 'claude-opus-4-8',
    });
    expect(bad.ok ? 0 : bad.answered?.usage.outputTokens).toBeGreaterThan(0);
  });

  it('returns a structured answer cut off at max_tokens as that stop, with the limits for the retry', async () => {
    const outputSchema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const cut = { kind: 'text', text: '{"a": "half', stopReason: 'max_tokens' } as const;
    model.expect({ respond: cut }, { respond: cut });
    const activity = activityFor();
    for (const role of ['planner', 'writer']) {
      const result = await call(activity, { ...base, role, messages: hello, outputSchema, maxTokens: 300 });
      expect(result).toMatchObject({ ok: true, stopReason: 'max_tokens', limits: { maxTokens: 300 } });
      expect(result.ok && result.structured).toBeFalsy();
    }
    expect(model.requests.map((r) => r.path)).toEqual(['/anthropic/v1/messages', '/openai/v1/responses']);
    model.assertDone();
  });

  it('classifies context-window errors from the real bodies as context_window_exceeded', async () => {
    model.expect(
      { respond: errorResponse(400, { message: 'prompt is too long: 200251 tokens > 200000 maximum' }) },
      {
        respond: rawResponse({
          status: 400,
          body: {
            error: {
              message:
                "This model's maximum context length is 8192 tokens. However, your messages resulted in 8227 tokens.",
              type: 'invalid_request_error',
              param: 'messages',
              code: 'context_length_exceeded',
            },
          },
        }),
      },
      {
        respond: rawResponse({
          status: 400,
          body: {
            error: {
              message: 'The response was filtered',
              type: null,
              param: 'prompt',
              code: 'content_filter',
            },
          },
        }),
      },
      { respond: errorResponse(400, { message: 'messages.0.content: Field required' }) },
    );
    const activity = activityFor();
    expect(await call(activity, { ...base, role: 'planner', messages: hello })).toMatchObject({
      ok: false,
      kind: 'context_window_exceeded',
      retryable: false,
      status: 400,
      fallbackAvailable: true,
    });
    expect(await call(activity, { ...base, role: 'writer', messages: hello })).toMatchObject({
      ok: false,
      kind: 'context_window_exceeded',
      retryable: false,
    });
    expect(await call(activity, { ...base, role: 'writer', messages: hello })).toMatchObject({
      ok: false,
      kind: 'refusal',
      retryable: false,
    });
    expect(await call(activity, { ...base, role: 'planner', messages: hello })).toMatchObject({
      ok: false,
      kind: 'bad_request',
    });
    model.assertDone();
  });

  it('gets the real context-window 400 from the offline model when the prompt does not fit', async () => {
    // claude-haiku-4-5 (worker) has a 200K window; gpt-5.4 (writer) 1,050,000. Estimate: chars / 4.
    const huge = (chars: number): ModelMessage[] => [
      { role: 'user', content: [{ type: 'text', text: 'x'.repeat(chars) }] },
    ];
    const activity = activityFor();
    const claude = await call(activity, { ...base, role: 'worker', messages: huge(810_000) });
    expect(claude).toMatchObject({ ok: false, kind: 'context_window_exceeded', status: 400 });
    expect(claude.ok ? '' : claude.message).toMatch(/prompt is too long: \d+ tokens > 200000 maximum/);
    const gpt = await call(activity, { ...base, role: 'writer', messages: huge(4_300_000) });
    expect(gpt).toMatchObject({ ok: false, kind: 'context_window_exceeded', status: 400 });
    expect(gpt.ok ? '' : gpt.message).toContain('maximum context length is 1050000 tokens');
    // Fits the input but not input + max_tokens: Claude refuses that too.
    const tight = await call(activity, {
      ...base,
      role: 'worker',
      messages: huge(760_000),
      maxTokens: 64_000,
    });
    expect(tight.ok ? '' : tight.message).toMatch(/input length and `max_tokens` exceed context limit/);
    expect(tight).toMatchObject({ ok: false, kind: 'context_window_exceeded' });
    expect(model.requests).toHaveLength(3);
    model.assertDone(); // refused before the script: no step was consumed
  });

  it("sends the role's thinking, effort and reasoning effort when the step sets none; the step's win", async () => {
    const activity = activityFor({
      MODEL_ROLE_PLANNER_THINKING: 'adaptive',
      MODEL_ROLE_PLANNER_EFFORT: 'low',
      MODEL_ROLE_WRITER_REASONING_EFFORT: 'low',
    });
    const body = (index: number) => model.requests[index]?.body as Record<string, unknown>;
    const calls: CallModelInputArgs[] = [
      { ...base, role: 'planner', messages: hello },
      { ...base, role: 'planner', messages: hello, thinking: 'off', effort: 'high' },
      { ...base, role: 'writer', messages: hello },
      { ...base, role: 'writer', messages: hello, reasoningEffort: 'high' },
    ];
    model.expect(...calls.map(() => ({ respond: textResponse('Noted.') })));
    for (const input of calls) {
      const result = await call(activity, input);
      expect(result.ok, JSON.stringify(result)).toBe(true);
    }
    expect(model.requests.map((r) => r.path)).toEqual([
      '/anthropic/v1/messages',
      '/anthropic/v1/messages',
      '/openai/v1/responses',
      '/openai/v1/responses',
    ]);
    // The role's settings.
    expect(body(0)).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
    expect(body(2)).toMatchObject({ reasoning: { effort: 'low' } });
    // A step's own settings override them.
    expect(body(1)).toMatchObject({ thinking: { type: 'disabled' }, output_config: { effort: 'high' } });
    expect(body(3)).toMatchObject({ reasoning: { effort: 'high' } });
    // Each provider ignores the other's settings.
    expect(body(0)).not.toHaveProperty('reasoning');
    expect(body(2)).not.toHaveProperty('thinking');
  });

  const planRef: PayloadRef = {
    container: 'agent-artifacts',
    path: 'run-1/transcripts/plan/t1-3.json',
    size: 120,
    sha256: 'a'.repeat(64),
  };

  it('resolves transcripts passed as blob references', async () => {
    model.expect({
      match: { lastUserText: 'Plan a report on durable agents.' },
      respond: textResponse('ok'),
    });
    const refs: PayloadRef[] = [];
    const activity = activityFor({}, { resolvePayload: (ref) => (refs.push(ref), Promise.resolve(hello)) });
    expect(await call(activity, { ...base, role: 'worker', messages: { ref: planRef } })).toMatchObject({
      ok: true,
    });
    expect(refs).toEqual([planRef]);
  });

  it('resolves the { blobRef } transcripts of runs older than the claim check', async () => {
    model.expect({
      match: { lastUserText: 'And now the newest turn.' },
      respond: textResponse('ok'),
    });
    const blobRefs: string[] = [];
    const activity = activityFor({}, { resolveBlob: (ref) => (blobRefs.push(ref), Promise.resolve(hello)) });
    const tail: ModelMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'And now the newest turn.' }] },
    ];
    expect(
      await call(activity, {
        ...base,
        role: 'worker',
        messages: { blobRef: 'artifacts/run-1/transcripts/plan/3.json', tail },
      }),
    ).toMatchObject({ ok: true });
    expect(blobRefs).toEqual(['artifacts/run-1/transcripts/plan/3.json']);
    const sent = JSON.stringify(model.requests.at(-1));
    expect(sent).toContain('Plan a report on durable agents.');
    expect(sent).toContain('And now the newest turn.');
  });

  it('appends the inline tail after a transcript snapshot', async () => {
    model.expect({
      match: { lastUserText: 'And now the newest turn.' },
      respond: textResponse('ok'),
    });
    const activity = activityFor({}, { resolvePayload: () => Promise.resolve(hello) });
    const tail: ModelMessage[] = [
      { role: 'assistant', content: [{ type: 'text', text: 'Noted.' }] },
      { role: 'user', content: [{ type: 'text', text: 'And now the newest turn.' }] },
    ];
    expect(
      await call(activity, {
        ...base,
        role: 'worker',
        messages: { ref: planRef, tail },
      }),
    ).toMatchObject({ ok: true });
    const sent = JSON.stringify(model.requests.at(-1));
    expect(sent).toContain('Plan a report on durable agents.');
    expect(sent).toContain('And now the newest turn.');
  });

  it('throws on malformed input, naming each path (a caller bug, not a model failure)', async () => {
    const activity = activityFor();
    await expect(
      activity({ role: 'planner', messages: [{ role: 'user', content: [{ type: 'image' }] }], stepId: 's' }),
    ).rejects.toThrow(/Invalid callModel input: .*\/messages.*\/runId/);
    await expect(call(activity, { ...base, role: 'critic', messages: hello })).rejects.toThrow(
      ModelConfigError,
    );
    await expect(call(activity, { ...base, role: 'worker', messages: { ref: planRef } })).rejects.toThrow(
      'has no resolvePayload',
    );
    await expect(
      call(activity, { ...base, role: 'worker', messages: { blobRef: 'artifacts/run-1/t.json' } }),
    ).rejects.toThrow('has no resolveBlob');
    expect(model.requests).toHaveLength(0);
  });

  it('reports an SDK timeout as a retryable timeout', async () => {
    model.expect({ respond: delayed(textResponse('too late'), 5_000) });
    const result = await call(activityFor({ MODEL_TIMEOUT_SECONDS: '1' }), {
      ...base,
      role: 'worker',
      messages: hello,
    });
    expect(result).toMatchObject({ ok: false, kind: 'timeout', retryable: true });
  });
});

describe('callModel under fault injection', () => {
  it('completes every run when 20% of responses are malformed, by retrying what is retryable', async () => {
    await model.stop();
    model = await startScriptedModel({
      unexpected: 'offline',
      faults: [
        { fault: 'malformed', probability: 0.2, seed: 42 },
        { fault: 'missing_fields', everyNth: 7 },
      ],
    });
    const activity = activityFor();
    const outcomes: CallModelResult[] = [];
    for (let run = 0; run < 25; run++) {
      for (let attempt = 1; ; attempt++) {
        const result = await call(activity, {
          runId: `run-${run}`,
          stepId: 'work',
          role: run % 2 ? 'worker' : 'writer',
          messages: hello,
        });
        if (result.ok || !result.retryable || attempt === 10) {
          outcomes.push(result);
          break;
        }
        expect(result.kind).toBe('server_error');
      }
    }
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(model.faultsInjected).toBeGreaterThan(3);
  });
});
