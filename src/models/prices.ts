import { z } from 'zod';

const Rates = {
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  /** Defaults to `input` (no surcharge), as on OpenAI models. */
  cacheWrite: z.number().nonnegative().optional(),
  /** Defaults to `input` (no discount). */
  cacheRead: z.number().nonnegative().optional(),
};

/** USD per million tokens, as `MODEL_PRICES_JSON` spells an entry. */
export const ModelPrice = z.strictObject({
  ...Rates,
  /**
   * Rates for a call whose prompt (input + cache writes + cache reads) is over `aboveTokens`: they
   * apply to every token of that call, output included (Claude Haiku 5.5 above 100K, GPT-5.6 above 272K).
   */
  longPrompt: z.strictObject({ aboveTokens: z.int().positive(), ...Rates }).optional(),
});

interface Rates {
  readonly input: number;
  readonly output: number;
  readonly cacheWrite: number;
  readonly cacheRead: number;
}
export interface ModelPrice extends Rates {
  readonly longPrompt?: Rates & { readonly aboveTokens: number };
}
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** The date the default table was last checked against its sources (below and in src/models/README.md). */
export const PRICES_CHECKED = '2026-12-07';

/**
 * Claude's server-side web search: $10 per 1,000 searches, on top of the tokens
 * (platform.claude.com/docs/en/about-claude/pricing, "Web search tool"; research notes §3.2). Searches
 * that error are not billed.
 */
export const CLAUDE_WEB_SEARCH_USD_PER_SEARCH = 10 / 1000;

/**
 * Claude's server-side code execution: $0.05 per container-hour with a 5-minute minimum, after 1,550 free
 * hours per organization per month; free when the request also carries web_search/web_fetch 20260209 or
 * later (platform.claude.com/docs/en/about-claude/pricing, "Code execution tool"; research notes §3.2).
 * Web fetch has no fee beyond tokens (same page, "Web fetch tool").
 */
export const CLAUDE_CODE_EXECUTION_USD_PER_HOUR = 0.05;
export const CLAUDE_CODE_EXECUTION_MIN_HOURS = 5 / 60;

/** Claude: 5-minute cache writes are 1.25× input; reads are 0.1× unless the pricing page says otherwise. */
const claude = (input: number, output: number, cacheRead = input * 0.1): Rates => ({
  input,
  output,
  cacheWrite: input * 1.25,
  cacheRead,
});
/** OpenAI: no cache-write surcharge on these models (writes bill as input). */
const gpt = (input: number, cacheRead: number, output: number): Rates => ({
  input,
  output,
  cacheWrite: input,
  cacheRead,
});
/** OpenAI's GPT-5.6 long-context rule: over 272K input tokens, the whole call bills 2× input and 1.5× output. */
const gpt56 = (input: number, cacheRead: number, output: number): ModelPrice => ({
  ...gpt(input, cacheRead, output),
  longPrompt: { aboveTokens: 272_000, ...gpt(input * 2, cacheRead * 2, output * 1.5) },
});

/**
 * List prices, standard tier, checked 2026-12-07 (PRICES_CHECKED). Sources per group below and in
 * src/models/README.md ("Prices"). Claude cache writes are the 5-minute rate (this app never asks for
 * the 1-hour cache). Foundry bills Claude at these rates; Azure OpenAI Global Standard matches OpenAI
 * list prices (Data Zone and regional deployments cost more: set MODEL_PRICES_JSON). Keys are model ids;
 * deployments named differently need an entry in MODEL_PRICES_JSON. A model whose price could not be
 * sourced is left out on purpose: it is reported as unpriced rather than guessed.
 */
export const DEFAULT_PRICES: PriceTable = {
  // platform.claude.com/docs/en/models/opus-5-5/overview: $4 / $20, 5m write $5, cache read $0.20 (0.05×).
  'claude-opus-5-5': claude(4, 20, 0.2),
  // platform.claude.com/docs/en/about-claude/pricing and models/opus-5/overview: $5 / $25, read $0.50.
  'claude-opus-5': claude(5, 25),
  'claude-opus-4-8': claude(5, 25),
  'claude-opus-4-7': claude(5, 25),
  'claude-opus-4-6': claude(5, 25),
  'claude-opus-4-5': claude(5, 25),
  // models/sonnet-5-5/overview: $2 / $10, 5m write $2.50. Cache reads were cut from $0.20 to $0.10 on
  // 2026-10-07: the model-page copy found predates the cut, three pricing trackers checked against the
  // live page after it agree on $0.10 (github.com/kurofune/claudit v1.9.2, TheKrush/PromptFuel v1.0.23,
  // phuryn/claude-usage v1.5.7 "checked 2026-12-01").
  'claude-sonnet-5-5': claude(2, 10, 0.1),
  // models/sonnet-5/overview: $2 / $10, read $0.20.
  'claude-sonnet-5': claude(2, 10),
  'claude-sonnet-4-6': claude(3, 15),
  'claude-sonnet-4-5': claude(3, 15),
  // Haiku 5.5 (models/opus-5 overview: "From $0.10 / $0.50"): a prompt up to 100,000 tokens pays $0.10 /
  // $0.50, 5m write $0.125, read $0.01; over it, $0.50 / $2.50, write $0.625, read $0.05 on every token of
  // the call (pricing page "Long prompt pricing" as quoted by the same trackers and docs.rs/synaps 0.10.2).
  'claude-haiku-5-5': {
    ...claude(0.1, 0.5, 0.01),
    longPrompt: { aboveTokens: 100_000, ...claude(0.5, 2.5, 0.05) },
  },
  'claude-haiku-4-5': claude(1, 5),
  // GPT-5.6 (GA 2026-07-09; `gpt-5.6` is an alias of Sol). Sol $5 / $0.50 cached / $30; Terra and Luna
  // as cut on 2026-07-30: $2 / $0.20 / $12 and $0.20 / $0.02 / $1.20. Over 272K input tokens the call
  // bills 2× input and 1.5× output (the cached-input long rate is taken as 2× too: not stated separately).
  // Sources: copies of OpenAI's announcement on docs.laozhang.ai/announcements/gpt-5-6-pricing-2026-07
  // and docs.apiyi.com/live/2026-07/gpt-5-6-terra-luna-price-cut; dev.to "How to use the GPT-5.6 API".
  'gpt-5.6': gpt56(5, 0.5, 30),
  'gpt-5.6-sol': gpt56(5, 0.5, 30),
  'gpt-5.6-terra': gpt56(2, 0.2, 12),
  'gpt-5.6-luna': gpt56(0.2, 0.02, 1.2),
  // GPT-5.5: $5 / $30 (apidog.com/blog/how-to-use-gpt-5-5-api), cached $0.50 (the 0.1× cached rate of the
  // newest models, api-evangelist's 2026-11-06 read of developers.openai.com/api/docs/pricing; the same
  // figure in powershellgallery ShellPilot 0.3.1 PriceTable). No long-context tier was found for it.
  'gpt-5.5': gpt(5, 0.5, 30),
  // Research notes §4.2: developers.openai.com/api/docs/pricing copies of 2026-08-17 and 2026-10-03.
  'gpt-5.4': gpt(2.5, 0.25, 15),
  'gpt-5.4-mini': gpt(0.75, 0.075, 4.5),
  'gpt-5': gpt(1.25, 0.125, 10),
  'gpt-5-mini': gpt(0.25, 0.025, 2),
  'gpt-5-nano': gpt(0.05, 0.005, 0.4),
  'gpt-4.1': gpt(2, 0.5, 8),
  'gpt-4.1-mini': gpt(0.4, 0.1, 1.6),
  'gpt-4.1-nano': gpt(0.1, 0.025, 0.4),
  'gpt-4o': gpt(2.5, 1.25, 10),
};

const withDefaults = (rates: z.infer<z.ZodObject<typeof Rates>>): Rates => ({
  input: rates.input,
  output: rates.output,
  cacheWrite: rates.cacheWrite ?? rates.input,
  cacheRead: rates.cacheRead ?? rates.input,
});

/** Parses `MODEL_PRICES_JSON` overrides; returns problems instead of throwing so config can list them all. */
export function parsePriceOverrides(json: string | undefined): { prices: PriceTable; problems: string[] } {
  if (json === undefined) return { prices: DEFAULT_PRICES, problems: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return {
      prices: DEFAULT_PRICES,
      problems: [
        'MODEL_PRICES_JSON is not valid JSON; set it to e.g. {"my-deployment":{"input":1,"output":5}} (USD per million tokens)',
      ],
    };
  }
  const parsed = z.record(z.string().min(1), ModelPrice).safeParse(raw);
  if (!parsed.success) {
    return {
      prices: DEFAULT_PRICES,
      problems: parsed.error.issues.map(
        (issue) =>
          `MODEL_PRICES_JSON at ${issue.path.join('.') || '(top level)'}: ${issue.message}; each entry is ` +
          '{"input":n,"output":n,"cacheWrite"?:n,"cacheRead"?:n,"longPrompt"?:{"aboveTokens":n,…}} in USD per million tokens',
      ),
    };
  }
  const overrides = Object.fromEntries(
    Object.entries(parsed.data).map(([model, { longPrompt, ...price }]): [string, ModelPrice] => [
      model,
      {
        ...withDefaults(price),
        ...(longPrompt
          ? { longPrompt: { aboveTokens: longPrompt.aboveTokens, ...withDefaults(longPrompt) } }
          : {}),
      },
    ]),
  );
  return { prices: { ...DEFAULT_PRICES, ...overrides }, problems: [] };
}
