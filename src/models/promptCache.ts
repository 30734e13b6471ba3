import type { MessageParam, TextBlockParam, ToolUnion } from '@anthropic-ai/sdk/resources/messages';

/**
 * Claude prompt caching: where the cache breakpoints (`cache_control`) of a Messages API request go.
 *
 * Facts this relies on (https://platform.claude.com/docs/en/build-with-claude/prompt-caching):
 * - the cached prefix runs in the order tools → system → messages, up to and including the marked block;
 * - a request may carry at most 4 breakpoints;
 * - on a request the API looks for a cache entry at each breakpoint and at the block boundaries up to 20
 *   blocks before it, so the breakpoint must move forward with the transcript to keep hitting;
 * - a prefix shorter than the model's minimum cacheable length is silently not cached (the table below).
 */
export const MAX_CACHE_BREAKPOINTS = 4;

/**
 * Minimum cacheable prefix per model, in tokens; longest matching id prefix wins (dated ids match too).
 * Sources: the "Cache limitations" section of https://platform.claude.com/docs/en/build-with-claude/prompt-caching
 * as quoted in https://github.com/anthropics/anthropic-sdk-python/issues/1194 (Opus 4.5/4.6 and Haiku 4.5:
 * 4,096; Sonnet 4.6/4.5, Opus 4.1/4: 1,024; Haiku 3.5/3: 2,048) and the 2026 summary of that page at
 * https://dev.to/creeta/claudes-prompt-cache-fails-silently-below-1024-tokens-1ch1 (Opus 5: 512; Opus 4.8 and
 * Sonnet 5: 1,024; Opus 4.7: 2,048). Research notes §3.3 (/work/shared/research/models-tools-perf.md) agree.
 */
export const MIN_CACHEABLE_TOKENS: Readonly<Record<string, number>> = {
  'claude-opus-5': 512,
  'claude-opus-4-8': 1024,
  'claude-opus-4-7': 2048,
  'claude-opus-4-6': 4096,
  'claude-opus-4-5': 4096,
  'claude-opus-4-1': 1024,
  'claude-opus-4': 1024,
  'claude-sonnet-5': 1024,
  'claude-sonnet-4-6': 1024,
  'claude-sonnet-4-5': 1024,
  'claude-sonnet-4': 1024,
  'claude-haiku-4-5': 4096,
  'claude-3-5-haiku': 2048,
  'claude-3-haiku': 2048,
};

/** For a deployment named otherwise (a renamed Foundry deployment): the most common minimum. */
export const DEFAULT_MIN_CACHEABLE_TOKENS = 1024;

export function minCacheableTokens(model: string): number {
  const id = model.toLowerCase();
  let best: { key: string; tokens: number } | undefined;
  for (const [key, tokens] of Object.entries(MIN_CACHEABLE_TOKENS)) {
    if ((id === key || id.startsWith(`${key}-`)) && key.length > (best?.key.length ?? 0)) {
      best = { key, tokens };
    }
  }
  return best?.tokens ?? DEFAULT_MIN_CACHEABLE_TOKENS;
}

/**
 * Deterministic token estimate: 4 characters of the request JSON per token, the offline model's own count.
 * Claude's tokenizers yield more tokens than that for most text (the 4.7+ one about 30 % more), so the
 * estimate errs low: a breakpoint is placed only where the prefix surely reaches the minimum, never where
 * the API would silently not cache it; one just over the threshold may be left out until the next turn.
 */
export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);

const BREAKPOINT = { type: 'ephemeral' } as const;

/** Block types that cannot carry `cache_control` (thinking blocks are cached only as part of a prefix). */
const UNMARKABLE = new Set(['thinking', 'redacted_thinking']);

interface Candidate {
  /** Characters of the prefix up to and including the block. */
  readonly prefixChars: number;
  readonly mark: () => void;
}

type Markable = { cache_control?: unknown; type: string; text?: string };

function lastMarkableBlock(message: MessageParam): Markable | undefined {
  if (typeof message.content === 'string') return undefined;
  const blocks = message.content as unknown as Markable[];
  return blocks.findLast((block) => !UNMARKABLE.has(block.type) && !(block.type === 'text' && !block.text));
}

/**
 * Marks cache breakpoints on a request, in place. Up to four, in prefix order:
 * 1. the last tool (tool definitions change least);
 * 2. the system prompt;
 * 3. the last block of the user turn before the last assistant turn: exactly where the previous call of an
 *    agent loop put its transcript breakpoint, so it hits even when the assistant turn and its tool results
 *    add more than the 20 blocks the API looks back over;
 * 4. the last block of the transcript, written now and read by the next turn.
 * A breakpoint whose prefix is under the model's minimum (estimated with `estimateTokens`) is left out: the
 * API would not cache it. With `enabled` false nothing is marked (MODEL_PROMPT_CACHE=off).
 */
export function placeCacheBreakpoints(
  request: {
    readonly model: string;
    readonly tools: readonly ToolUnion[];
    readonly system: readonly TextBlockParam[];
    readonly messages: readonly MessageParam[];
  },
  enabled: boolean,
): number {
  if (!enabled) return 0;
  const candidates: Candidate[] = [];
  let chars = 0;
  for (const tool of request.tools) chars += JSON.stringify(tool).length;
  const lastTool = request.tools.at(-1);
  if (lastTool) candidates.push({ prefixChars: chars, mark: () => (lastTool.cache_control = BREAKPOINT) });
  for (const block of request.system) chars += block.text.length;
  const lastSystem = request.system.at(-1);
  if (lastSystem)
    candidates.push({ prefixChars: chars, mark: () => (lastSystem.cache_control = BREAKPOINT) });

  const messageEnds: number[] = [];
  for (const message of request.messages) {
    chars += JSON.stringify(message).length;
    messageEnds.push(chars);
  }
  const lastAssistant = request.messages.findLastIndex((message) => message.role === 'assistant');
  const previousUser = request.messages.findLastIndex(
    (message, index) => message.role === 'user' && index < lastAssistant,
  );
  const last = request.messages.length - 1;
  for (const index of previousUser >= 0 ? [previousUser, last] : [last]) {
    const message = request.messages[index];
    const block = message ? lastMarkableBlock(message) : undefined;
    if (block) {
      candidates.push({
        prefixChars: messageEnds[index] ?? chars,
        mark: () => (block.cache_control = BREAKPOINT),
      });
    }
  }

  const minimum = minCacheableTokens(request.model);
  const placed = candidates
    .filter((candidate) => estimateTokens(candidate.prefixChars) >= minimum)
    .slice(-MAX_CACHE_BREAKPOINTS);
  for (const candidate of placed) candidate.mark();
  return placed.length;
}
