import { createHash, type Hash } from 'node:crypto';
import { z } from 'zod';
import { minCacheableTokens } from '../models/promptCache.js';
import { CHARS_PER_TOKEN } from './constants.js';
import type { Protocol } from './requestView.js';

/** What a request's prompt cache did, in tokens; `input_tokens` is the rest of the prompt. */
export interface PromptCacheUsage {
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  /** Claude's `usage.cache_creation` split of the write by TTL. */
  readonly write5mTokens: number;
  readonly write1hTokens: number;
}

/** The offline model's own token count: 4 characters per token (also the provider's estimate). */
const tokens = (chars: number) => Math.ceil(chars / CHARS_PER_TOKEN);

/**
 * Claude: how many blocks before a breakpoint the API looks for an earlier entry; the TTLs a breakpoint may ask for.
 * https://platform.claude.com/docs/en/build-with-claude/prompt-caching ("the system automatically checks for
 * cache hits at all previous content block boundaries, up to 20 blocks before your explicit breakpoint";
 * `ttl` "5m" (default) or "1h", refreshed at no cost each time the entry is used).
 */
const CLAUDE_LOOKBACK_BLOCKS = 20;
const CLAUDE_TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;

/**
 * OpenAI: automatic caching of prompts of 1,024 tokens or more, hits counted in 128-token blocks up to the first
 * mismatch; in-memory retention keeps a prefix 5 to 10 minutes after its last use (we take 5), `24h` retention
 * up to a day. https://developers.openai.com/api/docs/guides/prompt-caching and
 * https://developers.openai.com/cookbook/examples/prompt_caching_201 ("works automatically for prompts that
 * are 1024 tokens or longer. You can get a match until the first mismatched token in 128 token blocks").
 */
const OPENAI_MIN_TOKENS = 1024;
const OPENAI_BLOCK_CHARS = 128 * 4;
const OPENAI_TTL_MS = { in_memory: 5 * 60_000, '24h': 24 * 60 * 60_000 } as const;

const ResponsesPrompt = z.looseObject({
  model: z.string(),
  instructions: z.string().nullish(),
  input: z.union([z.string(), z.array(z.unknown())]),
  tools: z.array(z.unknown()).optional(),
});
const OpenAIPrompt = z.looseObject({
  model: z.string(),
  messages: z.array(z.unknown()),
  tools: z.array(z.unknown()).optional(),
});
const CacheControl = z.looseObject({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() });
const Block = z.looseObject({ cache_control: CacheControl.nullish() });
const ClaudeRequest = z.looseObject({
  model: z.string(),
  cache_control: CacheControl.nullish(),
  tools: z.array(Block).optional(),
  system: z.union([z.string(), z.array(Block)]).optional(),
  messages: z.array(z.looseObject({ role: z.string(), content: z.union([z.string(), z.array(Block)]) })),
  tool_choice: z.unknown().optional(),
  thinking: z.unknown().optional(),
});

interface FlatBlock {
  /** The block as the cache sees it: its bytes without `cache_control`, which is not part of the prefix. */
  readonly key: string;
  readonly chars: number;
  readonly ttl: keyof typeof CLAUDE_TTL_MS | undefined;
}

function flatten(request: z.infer<typeof ClaudeRequest>): FlatBlock[] {
  const flat: FlatBlock[] = [];
  const push = (prefix: string, block: z.infer<typeof Block> | string, chars?: number) => {
    if (typeof block === 'string') {
      flat.push({ key: `${prefix}${block}`, chars: chars ?? block.length, ttl: undefined });
      return;
    }
    const { cache_control: mark, ...rest } = block;
    const json = JSON.stringify(rest);
    flat.push({
      key: `${prefix}${json}`,
      chars: chars ?? json.length,
      ttl: mark ? (mark.ttl ?? '5m') : undefined,
    });
  };
  for (const tool of request.tools ?? []) push('tool:', tool);
  if (typeof request.system === 'string') push('system:', request.system);
  else
    for (const block of request.system ?? [])
      push('system:', block, typeof block.text === 'string' ? block.text.length : 0);
  // Changing tool_choice or thinking keeps the tools and system entries but not the messages' (docs, "What
  // invalidates the cache"): they salt the first message block.
  let salt = `messages:${JSON.stringify([request.tool_choice ?? null, request.thinking ?? null])}:`;
  for (const message of request.messages) {
    const blocks = typeof message.content === 'string' ? [message.content] : message.content;
    for (const block of blocks) {
      push(`${salt}${message.role}:`, block);
      salt = '';
    }
  }
  return flat;
}

/**
 * The offline model's prompt cache, per server instance and in memory, keyed by model and exact prefix bytes
 * (a hash chain over the blocks), with TTLs on the server's clock (`now`).
 */
export class OfflinePromptCache {
  /** Entry key → when it expires and the TTL a use renews. */
  private readonly claude = new Map<string, { expires: number; ttlMs: number }>();
  private readonly openai = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The cache usage of a valid request body of `protocol`; undefined when it has nothing to do with caching. */
  usage(protocol: Protocol, body: unknown): PromptCacheUsage | undefined {
    if (protocol === 'anthropic') return this.claudeUsage(body);
    const responses = ResponsesPrompt.safeParse(body);
    if (responses.success) {
      // A Responses API request: tools, instructions, then the input items (the same characters responsesWire.ts
      // counts as the prompt, in the order the cached prefix grows).
      const { model, instructions, tools, input } = responses.data;
      const prompt = JSON.stringify(tools ?? []) + (instructions ?? '') + JSON.stringify(input);
      const cacheReadTokens = this.openAICachedTokens(model, prompt);
      return { cacheReadTokens, cacheWriteTokens: 0, write5mTokens: 0, write1hTokens: 0 };
    }
    const parsed = OpenAIPrompt.safeParse(body);
    if (!parsed.success) return undefined;
    const { model, messages, tools } = parsed.data;
    // The order of requestView.ts's promptChars, so the cached part never exceeds the prompt.
    const cacheReadTokens = this.openAICachedTokens(
      model,
      JSON.stringify(tools ?? []) + JSON.stringify(messages),
    );
    return { cacheReadTokens, cacheWriteTokens: 0, write5mTokens: 0, write1hTokens: 0 };
  }

  /**
   * OpenAI's automatic caching (Chat Completions here; a Responses route passes its instructions, tools and
   * input rendered in order): the cached tokens of `prompt`, then remembers its prefixes.
   */
  openAICachedTokens(
    model: string,
    prompt: string,
    retention: keyof typeof OPENAI_TTL_MS = 'in_memory',
  ): number {
    const now = this.now();
    const blocks = Math.floor(prompt.length / OPENAI_BLOCK_CHARS);
    const keys: string[] = [];
    const hash = createHash('sha256').update(model);
    for (let block = 0; block < blocks; block++) {
      hash.update(prompt.slice(block * OPENAI_BLOCK_CHARS, (block + 1) * OPENAI_BLOCK_CHARS));
      keys.push(hash.copy().digest('hex'));
    }
    let matched = 0;
    while (matched < keys.length && (this.openai.get(keys[matched] ?? '') ?? 0) > now) matched++;
    const minBlocks = OPENAI_MIN_TOKENS / 128;
    if (tokens(prompt.length) < OPENAI_MIN_TOKENS) return 0;
    const expires = now + OPENAI_TTL_MS[retention];
    for (const key of keys) this.openai.set(key, Math.max(expires, this.openai.get(key) ?? 0));
    return matched >= minBlocks ? matched * 128 : 0;
  }

  private claudeUsage(body: unknown): PromptCacheUsage | undefined {
    const parsed = ClaudeRequest.safeParse(body);
    if (!parsed.success) return undefined;
    const request = parsed.data;
    const flat = flatten(request);
    const marks = flat.flatMap((block, index) => (block.ttl ? [index] : []));
    // Automatic caching: a top-level cache_control marks the last block.
    if (request.cache_control && flat.length > 0 && !marks.includes(flat.length - 1))
      marks.push(flat.length - 1);
    if (marks.length === 0) return undefined;
    const ttlOf = (index: number) =>
      flat[index]?.ttl ?? (request.cache_control ? (request.cache_control.ttl ?? '5m') : '5m');

    const keys: string[] = [];
    const prefixTokens: number[] = [];
    let chars = 0;
    let hash: Hash = createHash('sha256').update(request.model);
    for (const block of flat) {
      hash = hash.update(`\u0000${block.key}`);
      keys.push(hash.copy().digest('hex'));
      chars += block.chars;
      prefixTokens.push(tokens(chars));
    }

    const now = this.now();
    let hit = -1;
    for (const mark of marks) {
      for (let index = mark; index >= Math.max(0, mark - CLAUDE_LOOKBACK_BLOCKS + 1); index--) {
        if (index > hit && (this.claude.get(keys[index] ?? '')?.expires ?? 0) > now) hit = index;
      }
    }
    const read = hit >= 0 ? (prefixTokens[hit] ?? 0) : 0;
    const entry = this.claude.get(keys[hit] ?? '');
    if (entry) entry.expires = now + entry.ttlMs;

    const minimum = minCacheableTokens(request.model);
    let written = read;
    const split = { '5m': 0, '1h': 0 };
    for (const mark of marks.sort((a, b) => a - b)) {
      const prefix = prefixTokens[mark] ?? 0;
      if (prefix < minimum) continue;
      const ttl = ttlOf(mark);
      const key = keys[mark] ?? '';
      const ttlMs = Math.max(CLAUDE_TTL_MS[ttl], this.claude.get(key)?.ttlMs ?? 0);
      this.claude.set(key, { expires: now + ttlMs, ttlMs });
      if (mark > hit) {
        split[ttl] += prefix - written;
        written = prefix;
      }
    }
    return {
      cacheReadTokens: read,
      cacheWriteTokens: written - read,
      write5mTokens: split['5m'],
      write1hTokens: split['1h'],
    };
  }
}
