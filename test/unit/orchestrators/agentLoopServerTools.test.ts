/**
 * Claude server tools by deployment, end to end offline: the agent loop orchestrator, the real callModel
 * activity and Anthropic provider (the @anthropic-ai/sdk client over HTTP on loopback) and the offline
 * model server, which runs the server tools a deployment is configured for (CLAUDE_SERVER_TOOLS_JSON) and
 * refuses the others with a 400, as the hosting would.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCallModelActivity } from '../../../src/activities/callModel.js';
import { parseModelConfig, type ModelConfig } from '../../../src/config/models.js';
import { costUsd, findPrice } from '../../../src/models/cost.js';
import { createModelProviders } from '../../../src/models/providers.js';
import { serverToolOffer } from '../../../src/models/serverTools.js';
import { startOfflineModelServer, type OfflineModelServer } from '../../../src/offline/offlineModelServer.js';
import { agentLoopOrchestrator } from '../../../src/orchestrators/agentLoop.js';
import {
  CallModelResult,
  type CallModelSuccess,
  type ToolDefinition,
} from '../../../src/shared/modelTypes.js';
import { Names, toolActivityName } from '../../../src/shared/names.js';
import type { AgentLoopInput, AgentLoopOutput } from '../../../src/shared/runTypes.js';
import { ToolCallInput, type ToolCallResult } from '../../../src/shared/toolTypes.js';
import { FakeOrchestrationContext, type FakeTask } from '../../fakes/orchestrationContext.js';

const WEB_SEARCH: ToolDefinition = {
  name: 'web_search',
  description: 'Search the web',
  inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
};
const FETCH_URL: ToolDefinition = {
  name: 'fetch_url',
  description: 'Fetch a web page',
  inputSchema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
};

const input = (tools: ToolDefinition[]): AgentLoopInput => ({
  runId: 'run-server-tools',
  stepId: 'research',
  role: 'planner',
  system: 'Research before you answer.',
  prompt: 'When is high tide in Brest tomorrow? See https://tides.example/brest',
  tools,
  maxTurns: 5,
});

let server: OfflineModelServer;
let config: ModelConfig;

async function start(serverTools: Record<string, string[]> | undefined): Promise<void> {
  config = parseModelConfig({
    OFFLINE_MODEL: 'on',
    MODEL_ROLE_PLANNER: 'anthropic:claude-opus-4-8',
    ...(serverTools ? { CLAUDE_SERVER_TOOLS_JSON: JSON.stringify(serverTools) } : {}),
  });
  // The same hosting rule the app gives the offline server it starts (providers.ts).
  server = await startOfflineModelServer({
    serverTools: (provider, deployment) =>
      Object.values(serverToolOffer(config.serverTools ?? {}, provider, deployment)),
  });
}
afterEach(async () => {
  await server.stop();
});

/**
 * Runs the orchestrator: callModel tasks go to the real activity (JSON round-tripped, as history stores
 * them); tool tasks (the local tools) are answered by `tool` and recorded.
 */
async function run(
  loop: AgentLoopInput,
  tool: (call: ToolCallInput) => ToolCallResult = (call) => ({
    toolUseId: call.toolUseId,
    name: call.name,
    isError: false,
    content: `local ${call.name} result`,
    retryable: false,
    truncated: false,
    artifacts: [],
    durationMs: 1,
  }),
): Promise<{ output: AgentLoopOutput; results: CallModelSuccess[]; toolCalls: ToolCallInput[] }> {
  const activity = createCallModelActivity({
    config: () => config,
    providers: (c) => createModelProviders(c, { offlineEndpoints: () => Promise.resolve(server) }),
  });
  const results: CallModelSuccess[] = [];
  const toolCalls: ToolCallInput[] = [];
  const answer = async (task: FakeTask): Promise<unknown> => {
    if (task.kind === 'all') return Promise.all((task.children ?? []).map(answer));
    if (task.kind !== 'activity') throw new Error(`Unexpected task ${task.kind}`);
    if (task.name === Names.activities.callModel) {
      const result = CallModelResult.parse(
        JSON.parse(JSON.stringify(await activity(JSON.parse(JSON.stringify(task.input))))),
      );
      if (!result.ok) throw new Error(`callModel failed: ${result.kind} ${result.message}`);
      results.push(result);
      return JSON.parse(JSON.stringify(result));
    }
    const call = ToolCallInput.parse(task.input);
    expect(task.name).toBe(toolActivityName(call.name));
    toolCalls.push(call);
    return tool(call);
  };
  const context = new FakeOrchestrationContext(loop);
  const generator = agentLoopOrchestrator(context.asContext());
  let step = generator.next();
  for (let i = 0; !step.done; i++) {
    if (i > 20) throw new Error('The agent loop did not finish within 20 tasks');
    step = generator.next(await answer(step.value as FakeTask));
  }
  if (!step.value) throw new Error('The agent loop continued as new');
  return { output: step.value, results, toolCalls };
}

type WireBody = {
  tools?: Record<string, unknown>[];
  messages: { role: string; content: Record<string, unknown>[] | string }[];
};
const bodyOf = (index: number) => server.requests[index]?.body as WireBody;

describe('Claude server tools by deployment (offline, end to end)', () => {
  it("uses Claude's web search where the deployment offers it: fee in the ledger, blocks kept", async () => {
    await start({ 'claude-opus-4-8': ['web_search'] });
    const { output, results, toolCalls } = await run(input([WEB_SEARCH]));

    // Claude ran the search itself: no local tool call, one model call.
    expect(toolCalls).toEqual([]);
    expect(output.outcome).toBe('completed');
    expect(results).toHaveLength(1);
    expect(bodyOf(0).tools).toEqual([{ type: 'web_search_20260318', name: 'web_search' }]);

    // The transcript keeps the server_tool_use and web_search_tool_result blocks verbatim.
    const [answered] = results as [CallModelSuccess];
    const kept = answered.message.content.flatMap((block) =>
      block.type === 'provider' ? [block.block.type] : [],
    );
    expect(kept).toEqual(['server_tool_use', 'web_search_tool_result']);
    expect(answered.stopReason).toBe('end_turn');

    // One search: $0.01 on top of the tokens, in the call and in the ledger row.
    expect(answered.serverTools).toEqual({
      webSearches: 1,
      webFetches: 0,
      codeExecutions: 0,
      containerHours: 0,
      feeUsd: 0.01,
    });
    const price = findPrice(config.prices, 'claude-opus-4-8');
    expect(price).toBeDefined();
    const tokensUsd = costUsd(answered.usage, price!);
    expect(answered.costUsd).toBeCloseTo(tokensUsd + 0.01, 9);
    expect(output.ledger.rows).toHaveLength(1);
    expect(output.ledger.rows[0]).toMatchObject({ serverTools: { webSearches: 1, feeUsd: 0.01 } });
    expect(output.ledger.totals.costUsd).toBeCloseTo(tokensUsd + 0.01, 9);
  });

  it('uses the local tool where the deployment does not offer the server tool', async () => {
    await start({ 'claude-haiku-4-5': ['web_search'] });
    const { output, results, toolCalls } = await run(input([WEB_SEARCH]));

    expect(toolCalls.map((call) => call.name)).toEqual(['web_search']);
    expect(output.outcome).toBe('completed');
    expect(bodyOf(0).tools).toEqual([
      { name: 'web_search', description: 'Search the web', input_schema: WEB_SEARCH.inputSchema },
    ]);
    expect(results.every((result) => result.serverTools === undefined)).toBe(true);
    expect(output.ledger.rows[0]?.serverTools).toBeUndefined();
  });

  it('continues a pause_turn by sending the paused content back as is, with no empty turn', async () => {
    await start({ 'claude-opus-4-8': ['web_search', 'web_fetch'] });
    const { output, results, toolCalls } = await run(input([WEB_SEARCH, FETCH_URL]));

    expect(toolCalls).toEqual([]);
    expect(results.map((result) => result.stopReason)).toEqual(['pause_turn', 'end_turn']);
    expect(output).toMatchObject({ outcome: 'completed', turns: 2 });

    // The continuation: the paused assistant content last, byte for byte as Claude sent it.
    const paused = bodyOf(0);
    const continued = bodyOf(1);
    expect(paused.tools?.map((tool) => tool.type)).toEqual(['web_search_20260318', 'web_fetch_20260318']);
    expect(continued.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    const resent = continued.messages[1]!.content as Record<string, unknown>[];
    const pausedBlocks = results[0]!.message.content.map((block) =>
      block.type === 'provider' ? block.block : block,
    );
    expect(resent).toEqual(pausedBlocks);
    expect(resent.map((block) => block.type)).toEqual(['server_tool_use', 'web_search_tool_result']);
    expect(resent.some((block) => block.type === 'text')).toBe(false);

    // The second answer ran web fetch (no fee) and finished; one search billed over the two calls.
    expect(results[1]?.serverTools).toMatchObject({ webSearches: 0, webFetches: 1, feeUsd: 0 });
    expect(output.ledger.rows[0]).toMatchObject({
      calls: 2,
      serverTools: { webSearches: 1, webFetches: 1, feeUsd: 0.01 },
    });
  });
});
