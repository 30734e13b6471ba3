import { describe, expect, it } from 'vitest';
import { BATCH_DISCOUNT_FACTOR, costUsd, findPrice } from '../../../src/models/cost.js';
import { DEFAULT_PRICES } from '../../../src/models/prices.js';

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
});
