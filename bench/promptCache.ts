import { parseModelConfig } from '../src/models/config.js';
import { costUsd, findPrice } from '../src/models/cost.js';
import { DEFAULT_PRICES } from '../src/models/prices.js';
import { createModelProviders } from '../src/models/providers.js';
import { startOfflineModelServer } from '../src/offline/offlineModelServer.js';
import type { ModelMessage, TokenUsage, ToolDefinition } from '../src/shared/modelTypes.js';
import type { Row } from './sandbox.js';

/**
 * Prompt caching on a 20-turn agent loop: the Claude provider (real SDK, real breakpoint placement) against the
 * offline model's simulated prompt cache over loopback, once with caching and once with MODEL_PROMPT_CACHE=off.
 * The loop is the worker role's (Haiku 4.5, whose 4,096-token minimum the transcript passes after a few turns):
 * a ~600-token system prompt, two tools, and a web_search result of ~4 KB (five results) per turn.
 */
const TURNS = 20;
const FROM_TURN = 5;
const DEPLOYMENT = 'claude-haiku-4-5';

const SYSTEM = [
  'You are a research worker in a durable agent workflow. Answer the question you are given with facts',
  'from the web, citing every source by URL. Search before you answer; search again when the results do',
  'not settle the question; never invent a source. Keep notes short. When you have enough, answer in the',
  'requested format and stop calling tools.',
]
  .join(' ')
  .repeat(6);

const TOOLS: ToolDefinition[] = [
  {
    name: 'web_search',
    description: 'Search the web; returns up to five results with title, URL and an extract.',
    inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
  {
    name: 'fetch_url',
    description: 'Fetch a page and return its readable text.',
    inputSchema: {
      type: 'object',
      properties: { url: { type: 'string', format: 'uri' } },
      required: ['url'],
    },
  },
];

const searchResult = (turn: number) =>
  JSON.stringify(
    Array.from({ length: 5 }, (_, i) => ({
      title: `Result ${i + 1} for search ${turn}`,
      url: `https://example.org/${turn}/${i}`,
      content: `Extract ${turn}.${i}: `.padEnd(700, ' durable orchestration replay history'),
    })),
  );

interface LoopResult {
  readonly perTurn: readonly TokenUsage[];
  readonly costUsd: number;
}

async function runLoop(cache: 'on' | 'off'): Promise<LoopResult> {
  let turn = 0;
  const server = await startOfflineModelServer({
    script: () => ({ kind: 'tool_use', name: 'web_search', input: { query: `search ${++turn}` } }),
  });
  try {
    const config = parseModelConfig({
      ANTHROPIC_BASE_URL: server.anthropicBaseUrl,
      ANTHROPIC_API_KEY: 'bench-key',
      MODEL_PROMPT_CACHE: cache,
    });
    const provider = await createModelProviders(config).get('anthropic');
    const price = findPrice(config.prices, DEPLOYMENT);
    if (!price) throw new Error(`no price for ${DEPLOYMENT}`);
    const messages: ModelMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'Research question: how do durable agents resume?' }] },
    ];
    const perTurn: TokenUsage[] = [];
    let cost = 0;
    for (let n = 1; n <= TURNS; n++) {
      const result = await provider.call({
        deployment: DEPLOYMENT,
        system: SYSTEM,
        messages,
        tools: TOOLS,
        maxTokens: 1024,
      });
      perTurn.push(result.usage);
      cost += costUsd(result.usage, price);
      const call = result.message.content.find((block) => block.type === 'tool_use');
      if (!call) throw new Error(`turn ${n} did not call a tool`);
      messages.push(result.message, {
        role: 'user',
        content: [{ type: 'tool_result', toolUseId: call.id, content: searchResult(n), isError: false }],
      });
    }
    return { perTurn, costUsd: cost };
  } finally {
    await server.stop();
  }
}

export async function runPromptCacheBenchmarks(): Promise<Row[]> {
  const cached = await runLoop('on');
  const uncached = await runLoop('off');
  const later = cached.perTurn.slice(FROM_TURN - 1);
  const read = later.reduce((sum, usage) => sum + usage.cacheReadTokens, 0);
  const prompt = later.reduce(
    (sum, usage) => sum + usage.inputTokens + usage.cacheWriteTokens + usage.cacheReadTokens,
    0,
  );
  const share = read / prompt;
  const costRatio = cached.costUsd / uncached.costUsd;
  if (!findPrice(DEFAULT_PRICES, DEPLOYMENT)) throw new Error(`no default price for ${DEPLOYMENT}`);
  return [
    {
      scenario: `${TURNS}-turn agent loop on ${DEPLOYMENT}, offline cache: cache reads ÷ prompt tokens from turn ${FROM_TURN}`,
      measured: `${(share * 100).toFixed(1)} % (${read} of ${prompt} tokens)`,
      target: '≥ 70 %',
      ok: share >= 0.7,
    },
    {
      scenario: `${TURNS}-turn agent loop on ${DEPLOYMENT}: cost with caching ÷ MODEL_PROMPT_CACHE=off`,
      measured: `${costRatio.toFixed(3)} ($${cached.costUsd.toFixed(5)} ÷ $${uncached.costUsd.toFixed(5)})`,
      target: '≤ 0.5',
      ok: costRatio <= 0.5,
    },
  ];
}

if (require.main === module) {
  runPromptCacheBenchmarks()
    .then((rows) => {
      for (const row of rows) {
        process.stdout.write(
          `${row.scenario}  ${row.measured}  ${row.target}${row.ok ? '' : '  (MISSED)'}\n`,
        );
      }
    })
    .catch((error: unknown) => {
      process.stderr.write(
        `prompt cache benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
      process.exit(1);
    });
}
