/**
 * Prompt-cache hit rate: cache read ÷ (input + cache write + cache read), the share of the prompt tokens
 * served from cache; `null` when there were no prompt tokens. Rounded to 0.1 %.
 * Takes the ledger's `TokenUsage` or a step record's `tokens`.
 */
export function cacheHitRate(
  usage:
    | { readonly inputTokens: number; readonly cacheWriteTokens: number; readonly cacheReadTokens: number }
    | { readonly input: number; readonly cacheWrite: number; readonly cacheRead: number },
): number | null {
  const [input, write, read] =
    'inputTokens' in usage
      ? [usage.inputTokens, usage.cacheWriteTokens, usage.cacheReadTokens]
      : [usage.input, usage.cacheWrite, usage.cacheRead];
  const prompt = input + write + read;
  return prompt > 0 ? Math.round((read / prompt) * 1000) / 1000 : null;
}

/** "73.5 %", or "–" without prompt tokens. */
export const hitRateText = (rate: number | null): string =>
  rate === null ? '–' : `${(rate * 100).toFixed(1)} %`;
