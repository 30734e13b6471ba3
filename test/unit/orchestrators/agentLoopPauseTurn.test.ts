/**
 * A `pause_turn` continuation end to end: the agent loop orchestrator, the real callModel activity and
 * Anthropic provider (the @anthropic-ai/sdk client over HTTP on loopback) and the scripted model, which
 * enforces the strict Claude rules (src/offline/anthropicRules.ts) before any scripted answer. On
 * claude-opus-4-8 (no prefill from Claude 4.6 on), a continuation that lost its `server_tool_use` block would
 * be a prefill and get a 400.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCallModelActivity } from '../../../src/activities/callModel.js';
import { parseModelConfig, type ModelConfig } from '../../../src/config/models.js';
import { createModelProviders } from '../../../src/models/providers.js';
import { agentLoopOrchestrator } from '../../../src/orchestrators/agentLoop.js';
import { CallModelResult, ContentBlock, type CallModelSuccess } from '../../../src/shared/modelTypes.js';
import { Names } from '../../../src/shared/names.js';
import type { AgentLoopInput, AgentLoopOutput } from '../../../src/shared/runTypes.js';
import { FakeOrchestrationContext, type FakeTask } from '../../fakes/orchestrationContext.js';
import { startScriptedModel, textResponse, type ScriptedModel } from '../../support/scriptedModel.js';

let model: ScriptedModel;
beforeEach(async () => {
  model = await startScriptedModel();
});
afterEach(async () => {
  await model.stop();
});

const input: AgentLoopInput = {
  runId: 'run-pause',
  stepId: 'plan',
  role: 'planner',
  system: 'Research before you answer.',
  prompt: 'When is high tide in Brest tomorrow?',
  tools: [],
  maxTurns: 4,
};

/**
 * Runs the orchestrator, answering each callModel activity with the real activity (its input and result
 * JSON round-tripped, as Durable history stores them). Any other task fails the test.
 */
async function runWithRealCallModel(): Promise<{ output: AgentLoopOutput; results: CallModelSuccess[] }> {
  const config: ModelConfig = parseModelConfig({
    FOUNDRY_BASE_URL: model.foundryBaseUrl,
    FOUNDRY_API_KEY: 'foundry-pause-key-0123456789',
  });
  const activity = createCallModelActivity({
    config: () => config,
    providers: (c) => createModelProviders(c),
  });
  const context = new FakeOrchestrationContext(input);
  const generator = agentLoopOrchestrator(context.asContext());
  const results: CallModelSuccess[] = [];
  let step = generator.next();
  for (let i = 0; !step.done; i++) {
    if (i > 20) throw new Error('The agent loop did not finish within 20 tasks');
    const task = step.value as FakeTask;
    if (task.kind !== 'activity' || task.name !== Names.activities.callModel) {
      throw new Error(`Unexpected task ${task.kind} ${task.name ?? ''}`);
    }
    const result = CallModelResult.parse(
      JSON.parse(JSON.stringify(await activity(JSON.parse(JSON.stringify(task.input))))),
    );
    if (!result.ok) throw new Error(`callModel failed: ${result.kind} ${result.message}`);
    results.push(result);
    step = generator.next(JSON.parse(JSON.stringify(result)));
  }
  if (!step.value) throw new Error('The agent loop continued as new');
  return { output: step.value, results };
}

describe('agent loop pause_turn continuation on Claude 4.6+', () => {
  it('sends the paused turn back with its server_tool_use block unchanged, and the step completes', async () => {
    model.expect(
      {
        name: 'paused on a server tool',
        match: { protocol: 'anthropic', model: 'claude-opus-4-8', lastUserText: /high tide/ },
        respond: { kind: 'text', text: 'Searching the tide tables…', stopReason: 'pause_turn' },
      },
      {
        name: 'continued',
        match: { protocol: 'anthropic', model: 'claude-opus-4-8' },
        respond: textResponse('High tide in Brest is at 06:12.'),
      },
    );
    const { output, results } = await runWithRealCallModel();
    model.assertDone();
    expect(output).toMatchObject({
      outcome: 'completed',
      output: 'High tide in Brest is at 06:12.',
      turns: 2,
    });

    // The paused turn keeps Claude's server_tool_use block verbatim, as a provider block.
    const paused = results[0]!;
    expect(paused.stopReason).toBe('pause_turn');
    const server = paused.message.content.find((block) => block.type === 'provider');
    expect(server).toEqual({
      type: 'provider',
      provider: 'anthropic',
      block: {
        type: 'server_tool_use',
        id: expect.stringMatching(/^srvtoolu_offline_/) as unknown,
        name: 'web_search',
        input: { query: 'When is high tide in Brest tomorrow?' },
      },
    });

    // The continuation: no 400 (the strict rules accepted it), the paused turn last, exactly as returned.
    const [first, second] = model.requests as [
      (typeof model.requests)[number],
      (typeof model.requests)[number],
    ];
    expect(model.requests).toHaveLength(2);
    const messages = (second.body as { messages: { role: string; content: Record<string, unknown>[] }[] })
      .messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    const resent = messages[1]!.content;
    expect(resent.map((block) => block.type)).toEqual(['text', 'server_tool_use']);
    expect(resent[1]).toEqual(server?.type === 'provider' ? server.block : undefined);
    expect(resent.every((block) => block.type !== 'text' || block.text !== '')).toBe(true);
    expect(first.body).not.toHaveProperty('messages.1');
  });

  it('validates provider blocks as plain JSON with their own type', () => {
    const block = {
      type: 'provider',
      provider: 'anthropic',
      block: { type: 'web_search_tool_result', content: [] },
    };
    expect(ContentBlock.parse(JSON.parse(JSON.stringify(block)))).toEqual(block);
    expect(ContentBlock.safeParse({ ...block, block: { content: [] } }).error?.issues[0]?.message).toBe(
      'A provider block needs its own "type"',
    );
    expect(ContentBlock.safeParse({ ...block, provider: 'openai' }).success).toBe(false);
  });
});
