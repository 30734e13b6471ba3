import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { toFile } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCallModelActivity } from '../../../src/activities/callModel.js';
import { createModelBatchActivities } from '../../../src/activities/providerBatch.js';
import { createAnthropicProvider } from '../../../src/models/anthropicProvider.js';
import { parseModelConfig, type ModelConfig } from '../../../src/config/models.js';
import { BATCH_DISCOUNT_FACTOR, costUsd, findPrice } from '../../../src/models/cost.js';
import { chunkForLimits } from '../../../src/models/providerBatch.js';
import { createOpenAIBatchApi } from '../../../src/models/openaiBatches.js';
import { createModelProviders, type ModelProviders } from '../../../src/models/providers.js';
import { credentialFingerprint } from '../../../src/offline/offlineModelServer.js';
import type {
  CollectModelBatchResultsOutput,
  ModelBatchHandle,
  SubmitModelBatchInput,
} from '../../../src/shared/providerBatchTypes.js';
import type { CallModelSuccess, ModelMessage } from '../../../src/shared/modelTypes.js';
import {
  batchResponse,
  errorResponse,
  startScriptedModel,
  structuredResponse,
  textResponse,
  unprocessedResponse,
  type RecordedModelRequest,
  type ScriptedModel,
} from '../../support/scriptedModel.js';

const ANTHROPIC_KEY = 'sk-ant-batch-test-key-0123456789';
const AZURE_KEY = 'aoai-batch-test-key-0123456789';
const FOUNDRY_KEY = 'foundry-batch-test-key-0123456789';

const ask = (text: string): ModelMessage[] => [{ role: 'user', content: [{ type: 'text', text }] }];
const verdict = {
  type: 'object',
  additionalProperties: false,
  required: ['label'],
  properties: { label: { type: 'string', enum: ['spam', 'ham'] } },
};

let model: ScriptedModel;
beforeEach(async () => {
  model = await startScriptedModel({ ordered: false });
});
afterEach(async () => {
  await model.stop();
});

function setup(env: Record<string, string>) {
  const config: ModelConfig = parseModelConfig(env);
  let providers: ModelProviders | undefined;
  const deps = {
    config: () => config,
    providers: (c: ModelConfig) => (providers ??= createModelProviders(c)),
  };
  return { config, batch: createModelBatchActivities(deps), callModel: createCallModelActivity(deps) };
}

const anthropicEnv = () => ({ ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: model.anthropicBaseUrl });
const azureEnv = () => ({
  AZURE_OPENAI_ENDPOINT: model.url,
  AZURE_OPENAI_API_KEY: AZURE_KEY,
  MODEL_ROLE_BULK: 'azure-openai:gpt-5-mini-batch',
  MODEL_PRICES_JSON: JSON.stringify({ 'gpt-5-mini-batch': { input: 0.25, output: 2 } }),
});

const submitInput = (overrides: Partial<SubmitModelBatchInput> = {}): SubmitModelBatchInput => ({
  role: 'worker',
  runId: 'run-1',
  stepId: 'classify',
  outputSchema: verdict,
  maxTokens: 300,
  requests: [
    { customId: 'classify-0', system: 'Label mail.', messages: ask('Win a prize now') },
    { customId: 'classify-1', system: 'Label mail.', messages: ask('Lunch at noon?') },
  ],
  ...overrides,
});

const paths = (method?: string) =>
  model.requests.filter((r) => method === undefined || r.method === method).map((r) => r.path);

async function collectAfterEnd(batch: ReturnType<typeof setup>['batch'], handle: ModelBatchHandle) {
  for (let polls = 0; polls < 10; polls++) {
    const polled = await batch.pollModelBatch(handle);
    if (!polled.ok) throw new Error(polled.message);
    if (polled.state === 'ended') break;
  }
  return batch.collectModelBatchResults({ handle, outputSchema: verdict });
}

const successes = (collected: CollectModelBatchResultsOutput) =>
  collected.ok
    ? collected.results.flatMap((r) => (r.result.ok ? [[r.customId, r.result] as const] : []))
    : [];

describe('provider batches on the Claude API (Message Batches)', () => {
  it('sends each request with exactly the params of a direct call', async () => {
    const { batch, callModel } = setup(anthropicEnv());
    model.expect(
      { match: { inBatch: false }, respond: structuredResponse({ label: 'spam' }) },
      { match: { path: '/v1/messages/batches' }, respond: batchResponse(0) },
      { match: { inBatch: true }, respond: structuredResponse({ label: 'spam' }) },
      { match: { inBatch: true }, respond: structuredResponse({ label: 'ham' }) },
    );
    const direct = await callModel({
      role: 'worker',
      runId: 'run-1',
      stepId: 'classify',
      system: 'Label mail.',
      messages: ask('Win a prize now'),
      outputSchema: verdict,
      maxTokens: 300,
    });
    expect(direct.ok).toBe(true);
    const submitted = await batch.submitModelBatch(submitInput());
    expect(submitted).toEqual({
      ok: true,
      provider: 'anthropic',
      deployment: 'claude-haiku-4-5',
      batchIds: [expect.stringMatching(/^msgbatch_offline_/)],
      requestCount: 2,
    });
    const directBody = model.requests.find((r) => r.path === '/v1/messages')?.body;
    const create = model.requests.find((r) => r.path === '/v1/messages/batches');
    const entries = (create?.body as { requests: { custom_id: string; params: unknown }[] }).requests;
    expect(entries.map((e) => e.custom_id)).toEqual(['classify-0', 'classify-1']);
    expect(JSON.stringify(entries[0]?.params)).toBe(JSON.stringify(directBody));
    expect(create?.credential?.fingerprint).toBe(credentialFingerprint(ANTHROPIC_KEY));
    model.assertDone();
  });

  it("sends the step's thinking and the role's effort with each request, as a direct call would", async () => {
    const { batch } = setup({
      ...anthropicEnv(),
      MODEL_ROLE_WORKER: 'anthropic:claude-opus-4-8',
      MODEL_ROLE_WORKER_THINKING: 'off',
      MODEL_ROLE_WORKER_EFFORT: 'medium',
    });
    model.expect(
      { match: { path: '/v1/messages/batches' }, respond: batchResponse(0) },
      { match: { inBatch: true }, respond: structuredResponse({ label: 'spam' }) },
      { match: { inBatch: true }, respond: structuredResponse({ label: 'ham' }) },
    );
    // The step's `thinking` wins over the role's `off`; the role's effort fills in what the step leaves unset.
    const submitted = await batch.submitModelBatch(submitInput({ thinking: 'adaptive' }));
    expect(submitted.ok).toBe(true);
    const create = model.requests.find((r) => r.path === '/v1/messages/batches');
    const entries = (create?.body as { requests: { params: Record<string, unknown> }[] }).requests;
    expect(entries).toHaveLength(2);
    for (const { params } of entries) {
      expect(params.thinking).toEqual({ type: 'adaptive' });
      expect(params.output_config).toMatchObject({ effort: 'medium', format: { type: 'json_schema' } });
    }
    model.assertDone();
  });

  it('polls until the batch ends and maps every result type, priced at half the standard rate', async () => {
    const { batch, config, callModel } = setup(anthropicEnv());
    const usage = { inputTokens: 1200, outputTokens: 80 };
    model.expect(
      { match: { path: '/v1/messages/batches' }, respond: batchResponse(2) },
      { match: { lastUserText: 'a' }, respond: structuredResponse({ label: 'spam' }, usage) },
      { match: { lastUserText: 'b' }, respond: errorResponse(400, { message: 'prompt is too long' }) },
      { match: { lastUserText: 'c' }, respond: unprocessedResponse('expired') },
      { match: { lastUserText: 'd' }, respond: structuredResponse({ label: 'maybe' }) },
      { match: { lastUserText: 'e' }, respond: textResponse('not json at all') },
    );
    const submitted = await batch.submitModelBatch(
      submitInput({
        requests: ['a', 'b', 'c', 'd', 'e'].map((text, i) => ({ customId: `c-${i}`, messages: ask(text) })),
      }),
    );
    if (!submitted.ok) throw new Error(submitted.message);
    const { ok: _, ...handle } = submitted;
    const states: string[] = [];
    for (;;) {
      const polled = await batch.pollModelBatch(handle);
      if (!polled.ok) throw new Error(polled.message);
      states.push(polled.state);
      if (polled.state === 'ended') {
        expect(polled.counts).toEqual({ processing: 0, succeeded: 3, errored: 1, canceled: 0, expired: 1 });
        break;
      }
      expect(polled.counts.processing).toBe(5);
    }
    expect(states).toEqual(['in_progress', 'in_progress', 'ended']);

    const collected = await batch.collectModelBatchResults({ handle, outputSchema: verdict });
    if (!collected.ok) throw new Error(collected.message);
    const byId = Object.fromEntries(collected.results.map((r) => [r.customId, r.result]));
    const price = findPrice(config.prices, 'claude-haiku-4-5');
    const usageFull = { ...usage, cacheWriteTokens: 0, cacheReadTokens: 0 };
    expect(byId['c-0']).toMatchObject({
      ok: true,
      structured: { label: 'spam' },
      usage: usageFull,
      costUsd: costUsd(usageFull, price!, BATCH_DISCOUNT_FACTOR),
      provider: 'anthropic',
      deployment: 'claude-haiku-4-5',
    });
    expect((byId['c-0'] as CallModelSuccess).costUsd).toBeCloseTo((1200 * 1 + 80 * 5) / 1_000_000 / 2, 12);
    expect(byId['c-1']).toEqual({
      ok: false,
      kind: 'bad_request',
      retryable: false,
      status: 400,
      message: 'prompt is too long',
    });
    expect(byId['c-2']).toMatchObject({ ok: false, kind: 'expired', retryable: false });
    expect(byId['c-3']).toMatchObject({ ok: false, kind: 'invalid_output' });
    expect(byId['c-4']).toMatchObject({ ok: false, kind: 'invalid_output' });

    // The same usage through a direct call costs twice as much.
    model.expect({ match: { inBatch: false }, respond: structuredResponse({ label: 'spam' }, usage) });
    const direct = await callModel({
      role: 'worker',
      runId: 'r',
      stepId: 's',
      messages: ask('a'),
      outputSchema: verdict,
    });
    expect(direct.ok && direct.costUsd).toBeCloseTo(2 * (byId['c-0'] as CallModelSuccess).costUsd, 12);
    expect(model.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(1);
    model.assertDone();
  });

  it('cancels a running batch: its requests come back canceled', async () => {
    const { batch } = setup(anthropicEnv());
    model.expect({ match: { path: '/v1/messages/batches' }, respond: batchResponse(100) });
    const submitted = await batch.submitModelBatch(submitInput({ outputSchema: undefined }));
    if (!submitted.ok) throw new Error(submitted.message);
    const { ok: _, ...handle } = submitted;
    expect(await batch.cancelModelBatch(handle)).toEqual({ ok: true });
    expect(paths('POST')).toContain(`/v1/messages/batches/${handle.batchIds[0]}/cancel`);
    const collected = await collectAfterEnd(batch, handle);
    expect(collected.ok && collected.results.map((r) => r.result.ok || r.result.kind)).toEqual([
      'canceled',
      'canceled',
    ]);
  });

  it('splits a step past the provider limits into several batches', async () => {
    const client = new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: model.anthropicBaseUrl, maxRetries: 0 });
    const provider = createAnthropicProvider({
      kind: 'anthropic',
      client,
      batchClient: client.messages.batches,
      batchLimits: { maxRequests: 2, maxBytes: 10_000_000 },
      structuredOutput: 'native',
      offline: false,
      secrets: [],
    });
    model.expect(
      ...[0, 1, 2].map(() => ({ match: { path: '/v1/messages/batches' }, respond: batchResponse(0) })),
      ...[0, 1, 2, 3, 4].map(() => ({ match: { inBatch: true }, respond: textResponse('ok') })),
    );
    const ids = await provider.batches!.submit(
      ['a', 'b', 'c', 'd', 'e'].map((text, i) => ({
        customId: `s-${i}`,
        request: { deployment: 'claude-haiku-4-5', messages: ask(text), maxTokens: 100 },
      })),
    );
    expect(ids).toHaveLength(3);
    const sizes = model.requests
      .filter((r) => r.path === '/v1/messages/batches')
      .map((r) => (r.body as { requests: unknown[] }).requests.length);
    expect(sizes).toEqual([2, 2, 1]);
    expect(new Set(ids).size).toBe(3);
    model.assertDone();
  });

  it('chunks by bytes as well as by count', () => {
    const entries = [60, 30, 30, 10, 90].map((bytes) => ({ bytes }));
    expect(chunkForLimits(entries, { maxRequests: 10, maxBytes: 100 }, 5).map((c) => c.length)).toEqual([
      2, 2, 1,
    ]);
    expect(() => chunkForLimits([{ bytes: 101 }], { maxRequests: 10, maxBytes: 100 })).toThrow(
      /over the provider's 100-byte batch limit/,
    );
  });
});

describe('provider batches on Azure OpenAI (Global Batch)', () => {
  it('uploads a JSONL of Chat Completions requests for the batch deployment and creates the batch on /openai/v1', async () => {
    // Batches go through Chat Completions; direct calls do too here, so the two bodies can be compared.
    const { batch, callModel } = setup({ ...azureEnv(), AZURE_OPENAI_API_STYLE: 'chat' });
    model.expect(
      { match: { inBatch: false }, respond: structuredResponse({ label: 'spam' }) },
      { match: { path: '/openai/v1/batches' }, respond: batchResponse(1) },
      {
        match: { inBatch: true, lastUserText: /prize/ },
        respond: structuredResponse({ label: 'spam' }, { inputTokens: 400, outputTokens: 20 }),
      },
      { match: { inBatch: true, lastUserText: /Lunch/ }, respond: errorResponse(429, { message: 'quota' }) },
    );
    await callModel({
      role: 'bulk',
      runId: 'run-1',
      stepId: 'classify',
      system: 'Label mail.',
      messages: ask('Win a prize now'),
      outputSchema: verdict,
      maxTokens: 300,
    });
    const submitted = await batch.submitModelBatch(submitInput({ role: 'bulk' }));
    if (!submitted.ok) throw new Error(submitted.message);
    expect(submitted).toMatchObject({
      provider: 'azure-openai',
      deployment: 'gpt-5-mini-batch',
      requestCount: 2,
    });
    expect(paths('POST')).toEqual(['/openai/v1/chat/completions', '/openai/v1/files', '/openai/v1/batches']);
    const create = model.requests.find((r) => r.path === '/openai/v1/batches');
    expect(create?.body).toMatchObject({ endpoint: '/chat/completions', completion_window: '24h' });
    for (const request of model.requests.slice(1)) {
      expect(request.credential?.fingerprint).toBe(credentialFingerprint(AZURE_KEY));
      expect(JSON.stringify(request.headers)).not.toContain(AZURE_KEY);
    }
    const items = model.batchItems as RecordedModelRequest[];
    expect(items.map((item) => [item.path, item.view?.model, item.batch?.customId])).toEqual([
      ['/chat/completions', 'gpt-5-mini-batch', 'classify-0'],
      ['/chat/completions', 'gpt-5-mini-batch', 'classify-1'],
    ]);
    // The JSONL body is the direct call's body.
    const direct = model.requests.find((r) => r.path === '/openai/v1/chat/completions');
    expect(JSON.stringify(items[0]?.body)).toBe(JSON.stringify(direct?.body));

    const { ok: _, ...handle } = submitted;
    const collected = await collectAfterEnd(batch, handle);
    expect(paths('GET')).toEqual(
      expect.arrayContaining([
        `/openai/v1/batches/${handle.batchIds[0]}`,
        expect.stringMatching(/^\/openai\/v1\/files\/file-offline-.*\/content$/),
      ]),
    );
    expect(successes(collected)).toEqual([
      [
        'classify-0',
        expect.objectContaining({
          structured: { label: 'spam' },
          costUsd: (400 * 0.25 + 20 * 2) / 1_000_000 / 2,
          provider: 'azure-openai',
        }),
      ],
    ]);
    expect(collected.ok && collected.results.find((r) => r.customId === 'classify-1')?.result).toEqual({
      ok: false,
      kind: 'rate_limited',
      retryable: true,
      status: 429,
      message: 'quota',
    });
    // Once read, the input, output and error files are deleted from the provider's file store.
    const inputFile = (create?.body as { input_file_id: string }).input_file_id;
    const deleted = model.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deleted).toHaveLength(3);
    expect(deleted[0]).toBe(`/openai/v1/files/${inputFile}`);
    for (const path of deleted) {
      expect(path).toMatch(/^\/openai\/v1\/files\/file-offline-[^/]+$/);
      // Gone, as on the real Files API: its content and a second delete are 404s.
      expect((await fetch(`${model.url}${path}/content`)).status).toBe(404);
      expect((await fetch(`${model.url}${path}`, { method: 'DELETE' })).status).toBe(404);
    }
    model.assertDone();
  });

  it('reports a batch the provider rejected as batch_failed', async () => {
    const { batch } = setup(azureEnv());
    const client = new OpenAI({ apiKey: AZURE_KEY, baseURL: model.azureOpenAIBaseUrl, maxRetries: 0 });
    const file = await client.files.create({
      file: await toFile(Buffer.from('{"custom_id":"x","method":"GET"}\n'), 'bad.jsonl'),
      purpose: 'batch',
    });
    model.expect({ match: { path: '/openai/v1/batches' }, respond: batchResponse(0) });
    const rejected = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/chat/completions' as '/v1/chat/completions',
      completion_window: '24h',
    });
    const polled = await batch.pollModelBatch({
      provider: 'azure-openai',
      deployment: 'gpt-5-mini-batch',
      batchIds: [rejected.id],
      requestCount: 1,
    });
    expect(polled).toMatchObject({ ok: false, kind: 'batch_failed', retryable: false });
    expect(!polled.ok && polled.message).toMatch(/line 1: needs method POST/);
  });
});

describe('Azure upload validation', () => {
  /** An OpenAI client whose uploads go through these statuses before the batch may use them. */
  function clientWithUploadStates(states: string[]) {
    const calls: string[] = [];
    const client = {
      files: {
        create: () => (calls.push('upload'), Promise.resolve({ id: 'file-1', status: states.shift() })),
        retrieve: () => (calls.push('check'), Promise.resolve({ id: 'file-1', status: states.shift() })),
      },
      batches: { create: () => (calls.push('batch'), Promise.resolve({ id: 'batch-1' })) },
    };
    const api = createOpenAIBatchApi({
      kind: 'azure-openai',
      client: client as unknown as OpenAI,
      buildParams: (request) => ({ model: request.deployment, messages: [] }),
      normalize: () => {
        throw new Error('not used');
      },
      sleep: () => Promise.resolve(),
    });
    const items = [{ customId: 'a', request: { deployment: 'd', messages: ask('x'), maxTokens: 5 } }];
    return { calls, submit: () => api.submit(items) };
  }

  it('waits while Azure still validates the upload, then creates the batch', async () => {
    const { calls, submit } = clientWithUploadStates(['pending', 'running', 'processed']);
    expect(await submit()).toEqual(['batch-1']);
    expect(calls).toEqual(['upload', 'check', 'check', 'batch']);
  });

  it('stops when the upload is rejected, and never creates the batch', async () => {
    const { calls, submit } = clientWithUploadStates(['pending', 'error']);
    await expect(submit()).rejects.toThrow(/rejected the batch input file file-1/);
    expect(calls).not.toContain('batch');
  });
});

describe('Microsoft Foundry has no batch API', () => {
  const foundryEnv = () => ({ FOUNDRY_BASE_URL: model.foundryBaseUrl, FOUNDRY_API_KEY: FOUNDRY_KEY });

  it('refuses a role whose chain is all Foundry, saying what to configure, and submits nothing', async () => {
    const { batch } = setup(foundryEnv());
    const submitted = await batch.submitModelBatch(submitInput());
    expect(submitted).toMatchObject({
      ok: false,
      kind: 'batch_unsupported',
      retryable: false,
      provider: 'foundry',
      deployment: 'claude-haiku-4-5',
    });
    expect(!submitted.ok && submitted.message).toMatch(/Microsoft Foundry has no batch API/);
    expect(!submitted.ok && submitted.message).toContain(
      'MODEL_ROLE_WORKER_FALLBACK=anthropic:claude-haiku-4-5',
    );
    expect(model.requests).toHaveLength(0);
  });

  it('walks the chain to the first deployment with a batch API', async () => {
    const { batch } = setup({
      ...foundryEnv(),
      ...anthropicEnv(),
      MODEL_ROLE_WORKER: 'foundry:claude-haiku-4-5',
      MODEL_ROLE_WORKER_FALLBACK: 'anthropic:claude-haiku-4-5',
    });
    model.expect({ match: { path: '/v1/messages/batches' }, respond: batchResponse(0) });
    const submitted = await batch.submitModelBatch(submitInput({ outputSchema: undefined }));
    expect(submitted).toMatchObject({ ok: true, provider: 'anthropic', deployment: 'claude-haiku-4-5' });
    expect(paths()).toEqual(['/v1/messages/batches']);
  });
});

describe('provider batches offline', () => {
  it('runs a batch on a Foundry-routed role against the offline model, marked offline', async () => {
    const { batch } = setup({ OFFLINE_MODEL: 'on' });
    const submitted = await batch.submitModelBatch(submitInput());
    if (!submitted.ok) throw new Error(submitted.message);
    expect(submitted).toMatchObject({ provider: 'foundry', deployment: 'claude-haiku-4-5', requestCount: 2 });
    const { ok: _, ...handle } = submitted;
    const collected = await collectAfterEnd(batch, handle);
    const answers = successes(collected);
    expect(answers.map(([id]) => id).sort()).toEqual(['classify-0', 'classify-1']);
    for (const [, result] of answers) {
      expect(result).toMatchObject({ offline: true, provider: 'foundry', priced: true });
      expect(['spam', 'ham']).toContain((result.structured as { label: string }).label);
      expect(result.costUsd).toBeGreaterThan(0);
    }
  });
});

describe('submit failures are classified like model calls', () => {
  it('returns a 429 on create as retryable with its retry-after', async () => {
    const { batch } = setup(anthropicEnv());
    model.expect({
      match: { path: '/v1/messages/batches' },
      respond: errorResponse(429, { retryAfterSeconds: 7, message: 'slow down' }),
    });
    expect(await batch.submitModelBatch(submitInput())).toMatchObject({
      ok: false,
      kind: 'rate_limited',
      retryable: true,
      retryAfterMs: 7000,
      provider: 'anthropic',
    });
    expect(model.batchItems).toHaveLength(0);
  });
});
