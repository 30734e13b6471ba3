import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../../src/config/models.js';
import { ToolCallResult } from '../../../../src/shared/toolTypes.js';
import { claudeMessagesCreate } from '../../../../src/tools/registry.js';
import { parseWebToolsConfig } from '../../../../src/config/web.js';
import { createWebSearchTool } from '../../../../src/tools/web/webSearchTool.js';
import { rawResponse, startScriptedModel, type ScriptedModel } from '../../../support/scriptedModel.js';

/**
 * WEB_SEARCH_PROVIDER=claude through the real Anthropic SDK client to the scripted model on loopback:
 * the side call's tokens and per-search fee come back on the tool result as `spend`.
 */
let model: ScriptedModel;
beforeAll(async () => {
  model = await startScriptedModel({ ordered: true });
});
afterAll(async () => {
  await model.stop();
});

const message = (usage: Record<string, unknown>, content: unknown[]) => ({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-haiku-4-5-20251001',
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage,
  content,
});

const found = {
  type: 'web_search_tool_result',
  tool_use_id: 'srvtoolu_1',
  content: [
    { type: 'web_search_result', url: 'https://docs.example.com/a', title: 'A', encrypted_content: 'x' },
  ],
};

function claudeSearch() {
  const models = parseModelConfig({
    ANTHROPIC_API_KEY: 'sk-ant-spend-test',
    ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
  });
  const messagesCreate = claudeMessagesCreate(models);
  if (!messagesCreate) throw new Error('no Claude client');
  const tool = createWebSearchTool({
    config: parseWebToolsConfig({
      WEB_SEARCH_PROVIDER: 'claude',
      WEB_SEARCH_CLAUDE_DEPLOYMENT: 'claude-haiku-4-5',
    }).search,
    messagesCreate,
    billing: { provider: 'anthropic', prices: models.prices },
  });
  return (query: string) =>
    tool.handler({
      runId: 'r',
      stepId: 'research',
      toolUseId: 'toolu_1',
      name: 'web_search',
      arguments: { query },
    });
}

describe('the Claude web-search side call is paid for on the tool result', () => {
  it('reports its tokens at the deployment price plus $10 per 1,000 searches', async () => {
    model.expect({
      respond: rawResponse({
        body: message(
          {
            input_tokens: 2_000,
            output_tokens: 300,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 1_000,
            server_tool_use: { web_search_requests: 2 },
          },
          [found, { type: 'text', text: 'A is relevant.' }],
        ),
      }),
    });
    const result = await claudeSearch()('durable functions');
    model.assertDone();
    expect(ToolCallResult.parse(result)).toMatchObject({ isError: false });
    // Haiku 4.5: 2,000 × $1 + 300 × $5 + 1,000 × $0.10 per million = $0.0036, plus 2 searches × $0.01.
    expect(result.spend).toEqual([
      {
        provider: 'anthropic',
        deployment: 'claude-haiku-4-5',
        usage: { inputTokens: 2_000, outputTokens: 300, cacheWriteTokens: 0, cacheReadTokens: 1_000 },
        webSearches: 2,
        costUsd: 0.0236,
        priced: true,
      },
    ]);
  });

  it('reports the tokens of a call whose search failed (no per-search fee: errors are not billed)', async () => {
    model.expect({
      respond: rawResponse({
        body: message({ input_tokens: 500, output_tokens: 20, server_tool_use: { web_search_requests: 0 } }, [
          {
            type: 'web_search_tool_result',
            tool_use_id: 'srvtoolu_1',
            content: { type: 'web_search_tool_result_error', error_code: 'unavailable' },
          },
        ]),
      }),
    });
    const result = await claudeSearch()('anything');
    model.assertDone();
    expect(result).toMatchObject({ isError: true, errorKind: 'upstream_error', retryable: true });
    expect(result.spend).toEqual([
      expect.objectContaining({ webSearches: 0, costUsd: 0.0006, priced: true }), // 500 × $1 + 20 × $5
    ]);
  });
});
