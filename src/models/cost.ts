import type { TokenUsage } from '../shared/modelTypes.js';
import { CLAUDE_WEB_SEARCH_USD_PER_SEARCH, type ModelPrice, type PriceTable } from './prices.js';

/** Message Batches (Claude API, OpenAI, Azure Global Batch) bill half the standard rate. Foundry has no batches. */
export const BATCH_DISCOUNT_FACTOR = 0.5;

export const DATE_SUFFIX = /-(\d{8}|\d{4}-\d{2}-\d{2})$/;

/**
 * Finds the price for the first name that has one: endpoints report dated ids (`claude-haiku-4-5-20251001`,
 * `gpt-5-mini-2025-08-07`) and deployments may be renamed, so callers pass the reported model, then the deployment.
 */
export function findPrice(prices: PriceTable, ...names: readonly string[]): ModelPrice | undefined {
  for (const name of names) {
    const key = name.toLowerCase();
    const price = prices[name] ?? prices[key] ?? prices[key.replace(DATE_SUFFIX, '')];
    if (price) return price;
  }
  return undefined;
}

/** The prompt size a long-prompt tier is judged on: every input token, cached or not. */
export const promptTokens = (usage: TokenUsage): number =>
  usage.inputTokens + usage.cacheWriteTokens + usage.cacheReadTokens;

/**
 * USD for one call; `factor` scales the whole call (e.g. BATCH_DISCOUNT_FACTOR). A call whose prompt is
 * over the price's `longPrompt.aboveTokens` bills every token at the long-prompt rates. Rounded to 1e-8 USD.
 */
export function costUsd(usage: TokenUsage, model: ModelPrice, factor = 1): number {
  const long = model.longPrompt;
  const price = long && promptTokens(usage) > long.aboveTokens ? long : model;
  const perToken =
    usage.inputTokens * price.input +
    usage.outputTokens * price.output +
    usage.cacheWriteTokens * price.cacheWrite +
    usage.cacheReadTokens * price.cacheRead;
  return Math.round((perToken / 1_000_000) * factor * 1e8) / 1e8;
}

/** USD for Claude server-side web searches (`usage.server_tool_use.web_search_requests`). */
export function webSearchCostUsd(searches: number, factor = 1): number {
  return Math.round(searches * CLAUDE_WEB_SEARCH_USD_PER_SEARCH * factor * 1e8) / 1e8;
}

/**
 * TokenUsage from an OpenAI usage block (Chat Completions `prompt_tokens` + `prompt_tokens_details`, or
 * Responses `input_tokens` + `input_tokens_details`): `cached_tokens` and `cache_write_tokens` are parts
 * of the prompt count (openai SDK 6.49 completions.d.ts `PromptTokensDetails`, responses.d.ts
 * `ResponseUsage.InputTokensDetails`), so they are taken out of `inputTokens` and billed at their own rates.
 */
export function openAIUsage(
  promptTokens: number,
  completionTokens: number,
  details: { cached_tokens?: number | null; cache_write_tokens?: number | null } | null | undefined,
): TokenUsage {
  const cacheReadTokens = details?.cached_tokens ?? 0;
  const cacheWriteTokens = details?.cache_write_tokens ?? 0;
  return {
    inputTokens: Math.max(0, promptTokens - cacheReadTokens - cacheWriteTokens),
    outputTokens: completionTokens,
    cacheWriteTokens,
    cacheReadTokens,
  };
}
