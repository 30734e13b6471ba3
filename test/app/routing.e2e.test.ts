import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import { credentialFingerprint } from '../../src/offline/offlineModelServer.js';
import {
  startScriptedModel,
  structuredResponse,
  type RecordedModelRequest,
  type ScriptedModel,
} from '../support/scriptedModel.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * Claude roles on Microsoft Foundry and GPT on Azure OpenAI, through the real SDK clients against the
 * scripted model on loopback: which endpoint and deployment each role reaches, with which credential,
 * the prompt-cache breakpoints Claude receives, and a ledger equal to the scripted usage.
 */
const appDir = path.resolve(__dirname, '../..');
let host: TestHost;
let model: ScriptedModel;

const ticket = {
  subject: 'Charged twice and now locked out',
  body: 'I was billed twice this month and since then I cannot sign in. Please help.',
};
const firstPass = {
  category: 'billing',
  priority: 'normal',
  confidence: 0.4,
  summary: 'Double charge, lockout.',
};
const escalated = {
  category: 'account',
  priority: 'high',
  confidence: 0.9,
  summary: 'Locked out after a double charge.',
};

beforeAll(async () => {
  model = await startScriptedModel({ ordered: true });
  Object.assign(process.env, {
    OFFLINE_MODEL: 'off',
    FOUNDRY_BASE_URL: model.foundryBaseUrl,
    FOUNDRY_API_KEY: 'test-foundry-key',
    AZURE_OPENAI_ENDPOINT: model.url,
    AZURE_OPENAI_API_KEY: 'test-azure-openai-key',
  });
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
  await model?.stop();
});

async function runWorkflow(name: string, input: unknown): Promise<RunView> {
  const response = await fetch(`${host.host.url}/api/workflows/${name}?wait=60`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
    body: JSON.stringify(input),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as RunView;
}

const systemBlocks = (request: RecordedModelRequest) =>
  (request.body as { system?: { cache_control?: unknown }[] }).system ?? [];
const toolList = (request: RecordedModelRequest) =>
  (request.body as { tools?: { name: string; cache_control?: unknown }[] }).tools ?? [];

describe('role routing to Foundry and Azure OpenAI', () => {
  it('sends the worker and the escalation to their Foundry deployments with cache breakpoints, and prices the exact usage', async () => {
    model.expect(
      {
        name: 'classify (worker)',
        match: { protocol: 'anthropic', model: 'claude-haiku-4-5' },
        respond: structuredResponse(firstPass, { inputTokens: 410, outputTokens: 35, cacheReadTokens: 120 }),
      },
      {
        name: 'escalate (planner)',
        match: { protocol: 'anthropic', model: 'claude-opus-4-8', lastUserText: /First pass/ },
        respond: structuredResponse(escalated, { inputTokens: 520, outputTokens: 44, cacheWriteTokens: 300 }),
      },
    );
    const run = await runWorkflow('ticket-triage', ticket);
    model.assertDone();
    expect(run).toMatchObject({ outcome: 'completed', output: { triage: escalated, escalated: true } });

    const [classify, escalate] = model.requests.slice(-2) as [RecordedModelRequest, RecordedModelRequest];
    for (const request of [classify, escalate]) {
      expect(request.path).toBe('/anthropic/v1/messages');
      expect(request.credential).toMatchObject({
        header: 'x-api-key',
        fingerprint: credentialFingerprint('test-foundry-key'),
      });
      expect(JSON.stringify(request.headers)).not.toContain('test-foundry-key');
      // A triage prompt is far under the Haiku 4.5 / Opus minimum cacheable prefix, so it carries no cache
      // breakpoint (src/models/promptCache.ts; test/unit/models/promptCache.test.ts covers placement).
      expect(systemBlocks(request).at(-1)?.cache_control).toBeUndefined();
      // On Foundry structured output is a forced tool call, so the tool list is part of the prefix too.
      expect(toolList(request).map((t) => t.name)).toEqual(['emit_output']);
      expect(JSON.stringify(request.body)).not.toContain('cache_control');
    }
    expect(JSON.stringify(escalate.body)).toContain('Double charge, lockout.');

    const totals = run.ledger?.totals;
    expect(totals?.calls).toBe(2);
    expect(totals?.usage).toEqual({
      inputTokens: 410 + 520,
      outputTokens: 35 + 44,
      cacheReadTokens: 120,
      cacheWriteTokens: 300,
    });
    expect(run.ledger?.rows?.map((r) => [r.stepId, r.role, r.provider, r.deployment])).toEqual([
      ['classify', 'worker', 'foundry', 'claude-haiku-4-5'],
      ['escalate', 'planner', 'foundry', 'claude-opus-4-8'],
    ]);
    const rowSum = (run.ledger?.rows ?? []).reduce((sum, r) => sum + r.costUsd, 0);
    expect(totals?.costUsd).toBeCloseTo(rowSum, 10);
    expect(totals?.costUsd).toBeGreaterThan(0);
  });

  it('does not escalate a confident first pass', async () => {
    const confident = { ...firstPass, confidence: 0.95 };
    model.expect({
      name: 'classify (worker)',
      match: { model: 'claude-haiku-4-5' },
      respond: structuredResponse(confident, { inputTokens: 400, outputTokens: 30 }),
    });
    const run = await runWorkflow('ticket-triage', ticket);
    model.assertDone();
    expect(run).toMatchObject({ outcome: 'completed', output: { triage: confident, escalated: false } });
    expect(run.ledger?.totals.calls).toBe(1);
  });

  it('sends the writer role to Azure OpenAI on the /openai/v1/ endpoint', async () => {
    const report = { title: 'T', summary: 'S', sections: [{ heading: 'H', body: 'B', sources: [] }] };
    model.expect(
      {
        name: 'plan',
        match: { model: 'claude-opus-4-8' },
        respond: structuredResponse({ questions: ['Only question?'] }),
      },
      {
        name: 'answer',
        match: { model: 'claude-haiku-4-5' },
        respond: structuredResponse({
          question: 'Only question?',
          answer: 'A.',
          confidence: 'low',
          sources: [],
        }),
      },
      {
        name: 'report',
        match: { protocol: 'openai', model: 'gpt-5.4' },
        respond: structuredResponse(report),
      },
    );
    const run = await runWorkflow('research-report', { topic: 'Routing', questions: 1 });
    model.assertDone();
    expect(run).toMatchObject({ outcome: 'completed', output: report });
    const writer = model.requests.at(-1) as RecordedModelRequest;
    // GPT-5.x goes through the Responses API, store: false with its reasoning kept encrypted, and the
    // writer's schema (format: uri) in strict form, which the offline model's strict rules accept.
    expect(writer.path).toBe('/openai/v1/responses');
    expect(writer.body).toMatchObject({
      store: false,
      include: ['reasoning.encrypted_content'],
      text: { format: { type: 'json_schema', strict: true } },
    });
    expect(writer.credential?.fingerprint).toBe(credentialFingerprint('test-azure-openai-key'));
    expect(run.ledger?.rows?.at(-1)).toMatchObject({
      stepId: 'report',
      provider: 'azure-openai',
      deployment: 'gpt-5.4',
    });
  });
});
