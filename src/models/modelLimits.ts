/**
 * Context window and output limit per model, from the providers' model pages (checked 2026-12-07).
 * Used for the `max_tokens` retry cap, the agent loop's compaction threshold and the offline model's
 * `max_tokens` and context-window errors. A model not listed has unknown limits: the retry is capped at
 * MAX_TOKENS_CAP and the agent loop does not compact; a model listed without a window does not compact.
 */
import { DATE_SUFFIX } from './cost.js';

export interface ModelLimits {
  /** Input plus output tokens the model accepts in one request (absent: not confirmed). */
  readonly contextWindow?: number;
  /** The highest `max_tokens` / `max_completion_tokens` the model accepts. */
  readonly maxOutputTokens: number;
}

/** The highest `maxTokens` a callModel input may carry (CallModelInput in src/shared/modelTypes.ts). */
export const MAX_TOKENS_CAP = 64_000;

const limits = (contextWindow: number, maxOutputTokens: number): ModelLimits => ({
  contextWindow,
  maxOutputTokens,
});
/** A model whose output maximum is published but whose window is not confirmed here. */
const outputOnly = (maxOutputTokens: number): ModelLimits => ({ maxOutputTokens });

export const MODEL_LIMITS: Readonly<Record<string, ModelLimits>> = {
  // https://platform.claude.com/docs/en/models/opus-5-5/overview, .../opus-5/overview: 1M / 128K
  'claude-opus-5-5': limits(1_000_000, 128_000),
  'claude-opus-5': limits(1_000_000, 128_000),
  // https://platform.claude.com/docs/en/models/opus-4-8/overview, .../opus-4-6/overview: 1M / 128K
  'claude-opus-4-8': limits(1_000_000, 128_000),
  'claude-opus-4-6': limits(1_000_000, 128_000),
  // https://platform.claude.com/docs/en/docs/about-claude/models/overview: 200K / 64K
  'claude-opus-4-5': limits(200_000, 64_000),
  'claude-sonnet-4-5': limits(200_000, 64_000),
  'claude-haiku-4-5': limits(200_000, 64_000),
  // https://platform.claude.com/docs/en/about-claude/models/overview ("Max output"): 128K
  'claude-sonnet-4-6': outputOnly(128_000),
  'claude-opus-4-7': outputOnly(128_000),
  'claude-sonnet-5': outputOnly(128_000),
  'claude-fable-5': outputOnly(128_000),
  'claude-fable-5-1': outputOnly(128_000),
  // https://developers.openai.com/api/docs/models/gpt-5.4: 1,050,000 / 128,000
  'gpt-5.4': limits(1_050_000, 128_000),
  // https://developers.openai.com/api/docs/models/gpt-5.4-mini: 400,000 / 128,000
  'gpt-5.4-mini': limits(400_000, 128_000),
  // https://developers.openai.com/api/docs/models/gpt-5 (and -mini, -nano): 400,000 / 128,000
  'gpt-5': limits(400_000, 128_000),
  'gpt-5-mini': limits(400_000, 128_000),
  'gpt-5-nano': limits(400_000, 128_000),
  // https://developers.openai.com/api/docs/models/gpt-4.1: 1,047,576 / 32,768
  'gpt-4.1': limits(1_047_576, 32_768),
  // https://developers.openai.com/api/docs/models/gpt-4o: 128,000 / 16,384
  'gpt-4o': limits(128_000, 16_384),
};

/** The limits of the first name listed in the table (a date suffix like `-20251001` is ignored). */
export function findModelLimits(...names: readonly string[]): ModelLimits | undefined {
  for (const name of names) {
    const key = name.toLowerCase();
    const found = MODEL_LIMITS[key] ?? MODEL_LIMITS[key.replace(DATE_SUFFIX, '')];
    if (found) return found;
  }
  return undefined;
}
