import { describe, expect, it } from 'vitest';
import { BATCH_DISCOUNT_FACTOR, costUsd, findPrice, webSearchCostUsd } from '../../../src/models/cost.js';
import { DEFAULT_PRICES, parsePriceOverrides } from '../../../src/models/prices.js';
import { DEFAULT_ROLES } from '../../../src/models/roles.js';

const usage = {
  inputTokens: 1_000_000,
  outputTokens: 200_000,
  cacheWriteTokens: 100_000,
  cacheReadTokens: 500_000,
};

describe('cost', () => {
  it('prices each token class at its own rate', () => {
    const opus = findPrice(DEFAULT_PRICES, 'claude-opus-4-8');
    expect(opus).toEqual({ input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 });
    // 1M × $5 + 0.2M × $25 + 0.1M × $6.25 + 0.5M × $0.50
    expect(costUsd(usage, opus!)).toBe(5 + 5 + 0.625 + 0.25);
  });

  it('applies the batch discount to the whole call', () => {
    const haiku = findPrice(DEFAULT_PRICES, 'claude-haiku-4-5')!;
    expect(costUsd(usage, haiku, BATCH_DISCOUNT_FACTOR)).toBe((1 + 1 + 0.125 + 0.05) / 2);
  });

  it('is exact for small calls (rounded to 1e-8 USD)', () => {
    const small = { inputTokens: 1234, outputTokens: 56, cacheWriteTokens: 0, cacheReadTokens: 7 };
    expect(costUsd(small, findPrice(DEFAULT_PRICES, 'gpt-5-mini')!)).toBe(0.00042068); // (1234 × 0.25 + 56 × 2 + 7 × 0.025) / 1e6 = 0.000420675
  });

  it('finds prices by reported model id, dated ids, then deployment name', () => {
    expect(findPrice(DEFAULT_PRICES, 'claude-haiku-4-5-20251001')).toBe(DEFAULT_PRICES['claude-haiku-4-5']);
    expect(findPrice(DEFAULT_PRICES, 'gpt-5-mini-2025-08-07')).toBe(DEFAULT_PRICES['gpt-5-mini']);
    expect(findPrice(DEFAULT_PRICES, 'my-custom-deploy', 'gpt-5.4')).toBe(DEFAULT_PRICES['gpt-5.4']);
    expect(findPrice(DEFAULT_PRICES, 'llama3.3')).toBeUndefined();
  });

  it('prices every model a default or documented role can reach, with sourced cache rates', () => {
    for (const model of [
      'claude-opus-5-5',
      'claude-opus-5',
      'claude-sonnet-5-5',
      'claude-sonnet-5',
      'claude-haiku-5-5',
      'claude-haiku-4-5',
      'gpt-5.5',
      'gpt-5.6',
      'gpt-5.6-sol',
      'gpt-5.6-terra',
      'gpt-5.6-luna',
      'gpt-5.4',
    ]) {
      expect(findPrice(DEFAULT_PRICES, model), model).toBeDefined();
    }
    // platform.claude.com model pages: Opus 5.5 $4 / $20, 5m write $5, read $0.20 (0.05×, not 0.1×).
    expect(DEFAULT_PRICES['claude-opus-5-5']).toEqual({
      input: 4,
      output: 20,
      cacheWrite: 5,
      cacheRead: 0.2,
    });
    expect(DEFAULT_PRICES['claude-sonnet-5-5']).toEqual({
      input: 2,
      output: 10,
      cacheWrite: 2.5,
      cacheRead: 0.1,
    });
    expect(DEFAULT_PRICES['claude-sonnet-5']).toEqual({
      input: 2,
      output: 10,
      cacheWrite: 2.5,
      cacheRead: 0.2,
    });
    expect(DEFAULT_PRICES['gpt-5.5']).toEqual({ input: 5, output: 30, cacheWrite: 5, cacheRead: 0.5 });
    // Claude cache writes are the 5-minute rate: 1.25× input.
    for (const [model, price] of Object.entries(DEFAULT_PRICES)) {
      if (model.startsWith('claude-')) expect(price.cacheWrite, model).toBeCloseTo(price.input * 1.25, 10);
    }
  });

  it('bills a Haiku 5.5 call over 100K prompt tokens at the long-prompt rates on every token', () => {
    const haiku = findPrice(DEFAULT_PRICES, 'claude-haiku-5-5')!;
    const at = (inputTokens: number, cacheReadTokens = 0) =>
      costUsd({ inputTokens, outputTokens: 1_000, cacheWriteTokens: 0, cacheReadTokens }, haiku);
    // 100,000 prompt tokens is still the short tier: 0.1M × $0.10 + 1K × $0.50/M.
    expect(at(100_000)).toBe(0.0105);
    // 100,001 (cache reads count toward the prompt): 0.1M × $0.50 + 1 × $0.05/M + 1K × $2.50/M.
    expect(at(100_000, 1)).toBe(0.05250005);
  });

  it('bills a GPT-5.6 call over 272K input tokens at 2× input and 1.5× output', () => {
    const sol = findPrice(DEFAULT_PRICES, 'gpt-5.6-sol-2026-07-09')!;
    const call = { inputTokens: 300_000, outputTokens: 10_000, cacheWriteTokens: 0, cacheReadTokens: 0 };
    expect(costUsd(call, sol)).toBe(3.45); // 0.3M × $10 + 0.01M × $45;
    expect(costUsd({ ...call, inputTokens: 272_000 }, sol)).toBe(1.66); // 0.272M × $5 + 0.01M × $30;
  });

  it('charges $10 per 1,000 Claude web searches', () => {
    expect(webSearchCostUsd(3)).toBe(0.03);
    expect(webSearchCostUsd(1000)).toBe(10);
  });

  it('reads long-prompt tiers from MODEL_PRICES_JSON and fills their cache rates', () => {
    const { prices, problems } = parsePriceOverrides(
      JSON.stringify({
        'my-haiku': { input: 1, output: 5, longPrompt: { aboveTokens: 10, input: 2, output: 10 } },
      }),
    );
    expect(problems).toEqual([]);
    expect(prices['my-haiku']).toEqual({
      input: 1,
      output: 5,
      cacheWrite: 1,
      cacheRead: 1,
      longPrompt: { aboveTokens: 10, input: 2, output: 10, cacheWrite: 2, cacheRead: 2 },
    });
    const bad = parsePriceOverrides(JSON.stringify({ x: { input: 1, output: 5, longPrompt: { input: 2 } } }));
    expect(bad.problems.join('\n')).toMatch(/MODEL_PRICES_JSON at x\.longPrompt/);
  });

  it('prices every default role deployment, so a budget works out of the box', () => {
    for (const [role, { deployment }] of Object.entries(DEFAULT_ROLES)) {
      expect(findPrice(DEFAULT_PRICES, deployment), role).toBeDefined();
    }
  });
});
