import { z } from 'zod';

/** USD per million tokens. */
export const ModelPrice = z.strictObject({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  /** Defaults to `input` (no surcharge), as on OpenAI models. */
  cacheWrite: z.number().nonnegative().optional(),
  /** Defaults to `input` (no discount). */
  cacheRead: z.number().nonnegative().optional(),
});
export type ModelPrice = Required<z.infer<typeof ModelPrice>>;
export type PriceTable = Readonly<Record<string, ModelPrice>>;

const claude = (input: number, output: number): ModelPrice => ({
  input,
  output,
  cacheWrite: input * 1.25,
  cacheRead: input * 0.1,
});
const gpt = (input: number, cacheRead: number, output: number): ModelPrice => ({
  input,
  output,
  cacheWrite: input,
  cacheRead,
});

/**
 * List prices as of 2026-11-23 (research notes §4: Anthropic pricing page copy ≈Sep 2026, OpenAI pricing
 * copies 2026-08-17 and 2026-10-03). Claude cache writes are the 5-minute rate. Foundry bills Claude at
 * these rates; Azure Global Standard matches OpenAI list prices. Keys are model ids; deployments named
 * differently need an entry in MODEL_PRICES_JSON.
 */
export const DEFAULT_PRICES: PriceTable = {
  'claude-opus-5': claude(5, 25),
  'claude-opus-4-8': claude(5, 25),
  'claude-opus-4-7': claude(5, 25),
  'claude-opus-4-6': claude(5, 25),
  'claude-opus-4-5': claude(5, 25),
  'claude-sonnet-5': claude(2, 10),
  'claude-sonnet-4-6': claude(3, 15),
  'claude-sonnet-4-5': claude(3, 15),
  'claude-haiku-4-5': claude(1, 5),
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
          '{"input":n,"output":n,"cacheWrite"?:n,"cacheRead"?:n} in USD per million tokens',
      ),
    };
  }
  const overrides = Object.fromEntries(
    Object.entries(parsed.data).map(([model, price]) => [
      model,
      { ...price, cacheWrite: price.cacheWrite ?? price.input, cacheRead: price.cacheRead ?? price.input },
    ]),
  );
  return { prices: { ...DEFAULT_PRICES, ...overrides }, problems: [] };
}
