import { parseModelConfig } from '../src/config/models.js';
import { costUsd, findPrice } from '../src/models/cost.js';
import { DEFAULT_PRICES } from '../src/models/prices.js';
import { createModelProviders } from '../src/models/providers.js';
import { startOfflineModelServer } from '../src/offline/offlineModelServer.js';
import type { ModelMessage, TokenUsage, ToolDefinition } from '../src/shared/modelTypes.js';
import { cpuMsSince, printTables, repeat, REPETITIONS, toRow, type Table } from './measure.js';

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

const PROMPT_CACHE_FOOTNOTE =
  `median of ${REPETITIONS} repetitions, each a ${TURNS}-turn loop with caching and one without. host CPU: ` +
  'process.cpuUsage() of this process, which runs the provider (real SDK) and the offline model it calls, ' +
  `per model call (${2 * TURNS} per repetition). No durable host runs here, so no wire bytes.`;

export async function runPromptCacheBenchmarks(): Promise<Table> {
  if (!findPrice(DEFAULT_PRICES, DEPLOYMENT)) throw new Error(`no default price for ${DEPLOYMENT}`);
  const [shares = [], ratios = []] = await repeat(async () => {
    const cpu = process.cpuUsage();
    const cached = await runLoop('on');
    const uncached = await runLoop('off');
    const spent = { cpuMs: cpuMsSince(cpu), units: 2 * TURNS };
    const later = cached.perTurn.slice(FROM_TURN - 1);
    const read = later.reduce((sum, usage) => sum + usage.cacheReadTokens, 0);
    const prompt = later.reduce(
      (sum, usage) => sum + usage.inputTokens + usage.cacheWriteTokens + usage.cacheReadTokens,
      0,
    );
    return [
      { value: (read / prompt) * 100, note: `${read} of ${prompt} tokens`, ...spent },
      {
        value: cached.costUsd / uncached.costUsd,
        note: `$${cached.costUsd.toFixed(5)} ÷ $${uncached.costUsd.toFixed(5)}`,
        ...spent,
      },
    ];
  });
  return {
    title: 'Prompt caching (Claude provider against the offline model)',
    rows: [
      toRow(
        {
          scenario: `${TURNS}-turn agent loop on ${DEPLOYMENT}, offline cache: cache reads ÷ prompt tokens from turn ${FROM_TURN}, %`,
          target: '≥ 70 %',
          digits: 1,
          ok: (m) => m >= 70,
          cpuUnit: 'call',
        },
        shares,
      ),
      toRow(
        {
          scenario: `${TURNS}-turn agent loop on ${DEPLOYMENT}: cost with caching ÷ MODEL_PROMPT_CACHE=off`,
          target: '≤ 0.5',
          digits: 3,
          ok: (m) => m <= 0.5,
          cpuUnit: 'call',
        },
        ratios,
      ),
    ],
    footnote: PROMPT_CACHE_FOOTNOTE,
  };
}

if (require.main === module) {
  runPromptCacheBenchmarks()
    .then((table) => printTables([table], (text) => process.stdout.write(text)))
    .catch((error: unknown) => {
      process.stderr.write(
        `prompt cache benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
      process.exit(1);
    });
}
