import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { createCallModelActivity } from '../../src/activities/callModel.js';
import { createModelBatchActivities } from '../../src/activities/providerBatch.js';
import { loadWorkflowDirectory } from '../../src/definitions/loadWorkflows.js';
import type { AgentStep, LlmStep, Step } from '../../src/definitions/schema.js';
import { claudeOutputSchema } from '../../src/models/claudeSchema.js';
import { parseModelConfig, type ModelConfig } from '../../src/config/models.js';
import { toOpenAIStrictSchema } from '../../src/models/openaiSchema.js';
import { minCacheableTokens } from '../../src/models/promptCache.js';
import { createModelProviders, type ModelProviders } from '../../src/models/providers.js';
import type { ModelRoute } from '../../src/models/roles.js';
import { startOfflineModelServer, type OfflineModelServer } from '../../src/offline/offlineModelServer.js';
import type {
  CollectModelBatchResultsOutput,
  ModelBatchHandle,
  PollModelBatchResult,
} from '../../src/shared/providerBatchTypes.js';
import type {
  CallModelResult,
  CallModelSuccess,
  ContentBlock,
  JsonSchema,
  ModelMessage,
  ToolDefinition,
} from '../../src/shared/modelTypes.js';

/**
 * The provider contract: request/answer assertions made through the app's own callModel and batch
 * activities, over the real SDK clients.
 *
 * - Default (`npm test`): against the strict offline model, unscripted, configured as a deployment would be
 *   with `OFFLINE_MODEL=off` (Claude roles on the Claude API at `ANTHROPIC_BASE_URL`, the GPT role on Azure
 *   OpenAI v1 at an `http://127.0.0.1:<port>` `AZURE_OPENAI_ENDPOINT`). It rejects what Claude and GPT reject,
 *   so a request the app builds wrongly fails here; the bodies it received are inspected.
 * - `LIVE_TESTS=1`: against the real endpoints configured in the environment (FOUNDRY_*, ANTHROPIC_*,
 *   AZURE_OPENAI_*, OPENAI_*); the bodies the SDKs sent are recorded by a wrapping fetch. A role that is not
 *   configured is skipped with a printed reason. Provider batches can take long to end, so live they also
 *   need `LIVE_BATCH_TESTS=1`. Costs stay tiny: short prompts and small `maxTokens`, except the caching case.
 */
const appDir = path.resolve(__dirname, '../..');
const LIVE = process.env.LIVE_TESTS === '1';
const LIVE_ENDPOINT_SETTINGS = [
  'FOUNDRY_RESOURCE',
  'FOUNDRY_BASE_URL',
  'ANTHROPIC_API_KEY',
  'AZURE_OPENAI_ENDPOINT',
  'OPENAI_API_KEY',
];
const liveSkipped = LIVE && !LIVE_ENDPOINT_SETTINGS.some((name) => process.env[name]);
/** True when this run goes to the real endpoints. */
const LIVE_RUN = LIVE && !liveSkipped;
if (!LIVE)
  console.warn(
    '[provider contract] live was skipped: LIVE_TESTS is not 1 (running against the offline model)',
  );
if (liveSkipped) {
  console.warn(
    `[provider contract] live was skipped: LIVE_TESTS=1 but no model endpoint is configured (set ${LIVE_ENDPOINT_SETTINGS.join(', ')})`,
  );
}

let server: OfflineModelServer | undefined;
let config: ModelConfig;
let providers: ModelProviders;
/** Live: the JSON bodies the SDKs POSTed, in order (offline, the server's own record is used). */
const liveBodies: unknown[] = [];

const recordingFetch: typeof globalThis.fetch = async (input, init) => {
  if (typeof init?.body === 'string') {
    try {
      liveBodies.push(JSON.parse(init.body));
    } catch {
      // not JSON (a batch file upload): nothing to inspect
    }
  }
  return globalThis.fetch(input, init);
};

/** Request bodies the endpoint received (offline) or the SDKs sent (live), from position `since`. */
const bodiesSince = (since: number): unknown[] =>
  server
    ? server.requests
        .filter((r) => r.method === 'POST' && r.protocol !== undefined)
        .slice(since)
        .map((r) => r.body)
    : liveBodies.slice(since);
const bodyCount = (): number => bodiesSince(0).length;

/** The parts of the wire bodies this suite reads (Claude Messages, OpenAI Responses, Chat Completions). */
interface SentBody {
  output_config?: { format?: { schema?: unknown } };
  tools?: { name: string; input_schema?: unknown }[];
  tool_choice?: { name?: string };
  thinking?: unknown;
  messages?: { role: string; content: Record<string, unknown>[] }[];
  text?: { format?: unknown };
  reasoning?: unknown;
  input?: { type?: string; encrypted_content?: string }[];
  response_format?: { json_schema?: unknown };
}

beforeAll(async () => {
  if (LIVE_RUN) {
    config = parseModelConfig(process.env);
    providers = createModelProviders(config, { fetch: recordingFetch });
    return;
  }
  server = await startOfflineModelServer();
  config = parseModelConfig({
    OFFLINE_MODEL: 'off',
    ANTHROPIC_API_KEY: 'contract-anthropic-key',
    ANTHROPIC_BASE_URL: server.anthropicBaseUrl,
    AZURE_OPENAI_ENDPOINT: server.url,
    AZURE_OPENAI_API_KEY: 'contract-azure-openai-key',
  });
  providers = createModelProviders(config);
});

afterAll(async () => {
  await server?.stop();
});

const callModel = createCallModelActivity({ config: () => config, providers: () => providers });
const batches = createModelBatchActivities({ config: () => config, providers: () => providers });

const ask = (text: string): ModelMessage[] => [{ role: 'user', content: [{ type: 'text', text }] }];

function succeeded(result: CallModelResult): CallModelSuccess {
  expect(result.ok, JSON.stringify(result)).toBe(true);
  return result as CallModelSuccess;
}

/** The role's route, or skips the test with the reason printed (live, when the role is not configured). */
function routeOr(ctx: TestContext, role: string, wants?: (route: ModelRoute) => string | undefined) {
  const route = config.roles[role]?.route;
  const reason = route
    ? wants?.(route)
    : (config.unavailableRoles[role] ?? `role "${role}" is not configured`);
  if (reason) {
    console.warn(`[provider contract] ${ctx.task.name}: skipped: ${reason}`);
    ctx.skip();
  }
  return route as ModelRoute;
}

const isClaude = (route: ModelRoute) => route.provider === 'foundry' || route.provider === 'anthropic';
const apiOf = (route: ModelRoute) => {
  const settings = config.providers[route.provider];
  return settings && 'api' in settings ? settings.api : undefined;
};

/** Every llm/agent step of the shipped workflows, nested ones (map items, parallel branches) included. */
function modelSteps(): { name: string; step: LlmStep | AgentStep }[] {
  const { definitions, errors } = loadWorkflowDirectory(path.join(appDir, 'workflows'));
  expect(errors).toEqual([]);
  const found: { name: string; step: LlmStep | AgentStep }[] = [];
  const visit = (workflow: string, step: Step) => {
    if (step.kind === 'llm' || step.kind === 'agent') {
      if (step.outputSchema) found.push({ name: `${workflow}/${step.id}`, step });
    } else if (step.kind === 'map') visit(workflow, step.step);
    else if (step.kind === 'parallel')
      for (const branch of Object.values(step.branches)) visit(workflow, branch);
  };
  for (const [name, definition] of definitions) for (const step of definition.steps) visit(name, step);
  return found;
}

const STEPS = modelSteps();

describe(`provider contract (${LIVE_RUN ? 'live endpoints' : 'strict offline model'})`, () => {
  it('finds the shipped workflows’ structured steps', () => {
    // research-report, ticket-triage and data-analysis each have at least two.
    expect(STEPS.length).toBeGreaterThanOrEqual(6);
  });

  it.for(STEPS)('$name: its real outputSchema is accepted and answered', async ({ step }, ctx) => {
    const route = routeOr(ctx, step.role);
    const since = bodyCount();
    const schema = step.outputSchema as JsonSchema;
    const result = await callModel({
      role: step.role,
      runId: 'contract',
      stepId: step.id,
      messages: ask('Contract test: answer with brief placeholder values that satisfy the schema.'),
      outputSchema: schema,
      maxTokens: 1500,
      ...(step.thinking ? { thinking: step.thinking } : {}),
      ...(step.effort ? { effort: step.effort } : {}),
      ...(step.reasoningEffort ? { reasoningEffort: step.reasoningEffort } : {}),
    });
    // callModel validated `structured` against the original schema; an off-schema answer is not ok.
    const answer = succeeded(result);
    expect(answer.structured).toBeDefined();
    expect(answer.offline).toBe(!LIVE_RUN);
    const { usage } = answer;
    expect(usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeGreaterThan(0);

    const sent = bodiesSince(since);
    expect(sent).toHaveLength(1);
    const body = sent[0] as SentBody;
    if (isClaude(route)) {
      // Native structured output, or the forced answer tool (ANTHROPIC_STRUCTURED_OUTPUT=tool).
      const wire =
        body.output_config?.format?.schema ??
        body.tools?.find((t) => body.tool_choice?.name === t.name)?.input_schema;
      expect(wire).toEqual(claudeOutputSchema(schema));
    } else if (apiOf(route) === 'responses') {
      expect(body.text?.format).toMatchObject({ type: 'json_schema', ...toOpenAIStrictSchema(schema) });
    } else {
      expect(body.response_format?.json_schema).toMatchObject(toOpenAIStrictSchema(schema));
    }
  });

  const lookup: ToolDefinition = {
    name: 'lookup_order',
    description: 'Looks up an order by id and returns its status.',
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['orderId'],
      properties: { orderId: { type: 'string', description: 'The order id, e.g. A-17' } },
    },
  };
  const toolQuestion = ask(
    'What is the status of order A-17? Use the lookup_order tool, then answer in one line.',
  );

  async function toolRoundTrip(role: string, settings: Record<string, unknown>) {
    const first = succeeded(
      await callModel({
        role,
        runId: 'contract',
        stepId: 'tools-1',
        messages: toolQuestion,
        tools: [lookup],
        maxTokens: 2000,
        ...settings,
      }),
    );
    expect(first.stopReason).toBe('tool_use');
    const toolUse = first.message.content.find((b) => b.type === 'tool_use');
    expect(toolUse?.type).toBe('tool_use');
    const transcript: ModelMessage[] = [
      ...toolQuestion,
      first.message,
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            toolUseId: (toolUse as { id: string }).id,
            content: 'shipped on 2026-12-01',
            isError: false,
          },
        ],
      },
    ];
    const since = bodyCount();
    const second = succeeded(
      await callModel({
        role,
        runId: 'contract',
        stepId: 'tools-2',
        messages: transcript,
        tools: [lookup],
        maxTokens: 2000,
        ...settings,
      }),
    );
    expect(second.stopReason).toBe('end_turn');
    expect(second.message.content.some((b) => b.type === 'text')).toBe(true);
    return { first, sent: bodiesSince(since)[0] as SentBody };
  }

  it('Claude: a tool round trip with adaptive thinking returns the thinking block', async (ctx) => {
    // The planner's default (Opus 4.8) accepts adaptive thinking; the worker's Haiku 4.5 does not
    // (src/offline/anthropicRules.ts).
    routeOr(ctx, 'planner', (route) =>
      isClaude(route) ? undefined : `planner runs on ${route.provider}, not Claude`,
    );
    const { first, sent } = await toolRoundTrip('planner', { thinking: 'adaptive' });
    const kinds = first.message.content.map((b: ContentBlock) => b.type);
    expect(kinds[0]).toBe('thinking');
    expect(kinds).toContain('tool_use');
    expect(sent.thinking).toEqual({ type: 'adaptive' });
    const assistant = sent.messages?.[1];
    expect(assistant?.role).toBe('assistant');
    expect(assistant?.content[0]).toMatchObject({
      type: 'thinking',
      signature: (first.message.content[0] as { signature: string }).signature,
    });
    expect(sent.messages?.[2]?.content[0]).toMatchObject({ type: 'tool_result' });
  });

  it('GPT: a tool round trip with reasoning (Responses API) returns the reasoning item', async (ctx) => {
    routeOr(ctx, 'writer', (route) =>
      apiOf(route) === 'responses' ? undefined : `writer runs on ${route.provider} without the Responses API`,
    );
    const { first, sent } = await toolRoundTrip('writer', { reasoningEffort: 'low' });
    const reasoning = first.message.content.find((b) => b.type === 'reasoning');
    expect(reasoning, JSON.stringify(first.message)).toBeDefined();
    expect(sent.reasoning).toEqual({ effort: 'low' });
    const types = (sent.input ?? []).map((item) => item.type);
    expect(types).toEqual(expect.arrayContaining(['reasoning', 'function_call', 'function_call_output']));
    const item = (sent.input ?? []).find((i) => i.type === 'reasoning');
    expect(item?.encrypted_content).toBe((reasoning as { encryptedContent: string }).encryptedContent);
    expect(types.indexOf('reasoning')).toBeLessThan(types.indexOf('function_call'));
  });

  /**
   * A system prompt of `tokens` estimated tokens (4 characters each), varied so no tokenizer squeezes it. It
   * starts with a fresh id so no earlier run (live within the cache TTL) has cached it: the first call writes.
   */
  const longSystem = (tokens: number): string => {
    const lines: string[] = [
      `Contract run ${randomUUID()}. You are a terse assistant; the notes below are context only.`,
    ];
    for (let i = 0; lines.join('\n').length < tokens * 4; i++) {
      lines.push(
        `Note ${i}: item ${(i * 7919) % 10007} ships from depot ${(i * 31) % 97} on weekday ${i % 7}.`,
      );
    }
    return lines.join('\n');
  };

  it.for(['planner', 'writer'])(
    '%s: a long system prompt twice is a cache hit the second time',
    async (role, ctx) => {
      const route = routeOr(ctx, role);
      // Twice the model's minimum: the estimate errs low for real tokenizers, so the prefix surely qualifies.
      const system = longSystem(2 * Math.max(1024, minCacheableTokens(route.deployment)));
      const call = (stepId: string) =>
        callModel({
          role,
          runId: 'contract',
          stepId,
          system,
          messages: ask('Reply with the word ok.'),
          maxTokens: 300,
        });
      const first = succeeded(await call('cache-1'));
      const second = succeeded(await call('cache-2'));
      if (isClaude(route)) expect(first.usage.cacheWriteTokens).toBeGreaterThan(0);
      expect(second.usage.cacheReadTokens).toBeGreaterThan(0);
    },
  );

  const verdict: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['label'],
    properties: { label: { type: 'string', enum: ['spam', 'ham'] } },
  };

  const BATCHES = [
    { provider: 'anthropic', role: 'worker' },
    { provider: 'azure-openai', role: 'writer' },
  ] as const;

  it.for(BATCHES)(
    'a two-item batch on $provider comes back in order',
    { timeout: LIVE_RUN ? 3_700_000 : 30_000 },
    async ({ provider, role }, ctx) => {
      if (LIVE_RUN && process.env.LIVE_BATCH_TESTS !== '1') {
        console.warn(
          `[provider contract] ${ctx.task.name}: skipped: live batches can take hours; set LIVE_BATCH_TESTS=1`,
        );
        ctx.skip();
      }
      routeOr(ctx, role, (route) =>
        route.provider === provider ? undefined : `${role} runs on ${route.provider}`,
      );
      const submitted = await batches.submitModelBatch({
        role,
        runId: 'contract',
        stepId: 'batch',
        outputSchema: verdict,
        maxTokens: 200,
        requests: [
          {
            customId: 'mail-0',
            system: 'Label the mail spam or ham.',
            messages: ask('WIN A FREE PRIZE NOW!!!'),
          },
          {
            customId: 'mail-1',
            system: 'Label the mail spam or ham.',
            messages: ask('Lunch at noon tomorrow?'),
          },
        ],
      });
      expect(submitted.ok, JSON.stringify(submitted)).toBe(true);
      if (!submitted.ok) return;
      const handle: ModelBatchHandle = {
        provider: submitted.provider,
        deployment: submitted.deployment,
        batchIds: submitted.batchIds,
        requestCount: submitted.requestCount,
      };
      let polled: PollModelBatchResult;
      for (let attempt = 0; ; attempt++) {
        polled = await batches.pollModelBatch(handle);
        expect(polled.ok, JSON.stringify(polled)).toBe(true);
        if (polled.ok && polled.state === 'ended') break;
        expect(attempt, 'the batch did not end in time').toBeLessThan(LIVE_RUN ? 120 : 50);
        await sleep(LIVE_RUN ? 30_000 : 100);
      }
      const collected: CollectModelBatchResultsOutput = await batches.collectModelBatchResults({
        handle,
        outputSchema: verdict,
      });
      expect(collected.ok, JSON.stringify(collected)).toBe(true);
      if (!collected.ok) return;
      expect(collected.results.map((r) => r.customId)).toEqual(['mail-0', 'mail-1']);
      for (const { result } of collected.results) {
        expect(result.ok, JSON.stringify(result)).toBe(true);
        if (result.ok) expect(['spam', 'ham']).toContain((result.structured as { label: string }).label);
      }
      if (server) {
        const items = server.batchItems.filter(
          (r) => r.batch?.id !== undefined && handle.batchIds.includes(r.batch.id),
        );
        expect(items.map((r) => r.batch?.customId).sort()).toEqual(['mail-0', 'mail-1']);
      }
    },
  );
});
