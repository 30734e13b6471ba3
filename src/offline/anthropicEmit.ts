/**
 * What Claude puts in a Messages answer beyond text and tool calls, for the offline model: thinking blocks,
 * `max_tokens` truncation and the `pause_turn` shape. The table "What it emits" in README.md lists them with
 * their sources.
 */
import { CHARS_PER_TOKEN } from './constants.js';
import { thinkingSignature } from './anthropicRules.js';
import { shortHash } from './prng.js';
import type { JsonObject, RequestView } from './requestView.js';
import { serverToolBlocks, type ServerToolOffered } from './serverTools.js';

export interface ClaudeExtras {
  /** The text of the thinking block to emit (default: a marked line when the request thinks). */
  readonly thinking?: string;
  /** Emit a `redacted_thinking` block too (what Claude sends when part of its thinking was redacted). */
  readonly redactedThinking?: boolean;
  /** A server tool Claude runs before the answer: its `server_tool_use` and result blocks come first (serverTools.ts). */
  readonly serverTool?: ServerToolOffered;
}

/**
 * Thinking blocks first, as Claude returns them when the request thinks
 * (https://platform.claude.com/docs/en/build-with-claude/extended-thinking): `thinking` with a `signature`
 * the offline model can verify when the block comes back (anthropicRules.ts), and `redacted_thinking` with
 * opaque `data` when scripted.
 */
function thinkingBlocks(view: RequestView, extras: ClaudeExtras, seed: string): JsonObject[] {
  const blocks: JsonObject[] = [];
  if (view.thinking || extras.thinking !== undefined) {
    const text =
      extras.thinking ?? `[offline] Thinking about: ${view.lastUserText.replace(/\s+/g, ' ').slice(0, 80)}`;
    blocks.push({ type: 'thinking', thinking: text, signature: thinkingSignature(text) });
  }
  if (extras.redactedThinking) {
    blocks.push({ type: 'redacted_thinking', data: `offline-redacted-${shortHash(`${seed}:redacted`, 32)}` });
  }
  return blocks;
}

/**
 * Cuts the answer at `max_tokens` (4 characters a token, the offline model's count), as Claude stops
 * generating there with `stop_reason: "max_tokens"`; a tool call cut off keeps its block with the input
 * generated so far, which is not usable (https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons).
 * Thinking counts toward `max_tokens` (ThinkingConfigParam in the SDK types).
 */
function truncate(
  content: JsonObject[],
  stopReason: string,
  maxTokens: number | undefined,
): { content: JsonObject[]; stopReason: string } {
  if (maxTokens === undefined) return { content, stopReason };
  let budget = maxTokens * CHARS_PER_TOKEN;
  const kept: JsonObject[] = [];
  for (const block of content) {
    const size =
      block.type === 'text'
        ? String(block.text).length
        : block.type === 'thinking'
          ? String(block.thinking).length
          : JSON.stringify(block).length;
    if (size <= budget) {
      kept.push(block);
      budget -= size;
      continue;
    }
    if (block.type === 'text') kept.push({ ...block, text: String(block.text).slice(0, budget) });
    else if (block.type === 'tool_use') kept.push({ ...block, input: {} });
    return { content: kept, stopReason: 'max_tokens' };
  }
  return { content: kept, stopReason };
}

/**
 * A `pause_turn` answer: Claude paused a long server-tool turn, so the content ends with the
 * `server_tool_use` block it was running; the client sends the turn back as is to continue
 * (https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons#pause-turn).
 */
function pauseTurn(content: JsonObject[], view: RequestView, seed: string): JsonObject[] {
  return [
    ...content,
    {
      type: 'server_tool_use',
      id: `srvtoolu_offline_${shortHash(`${seed}:server`, 20)}`,
      name: 'web_search',
      input: { query: view.lastUserText.slice(0, 60) },
    },
  ];
}

/** The content and stop reason Claude would send for this answer and request. */
export function claudeContent(
  view: RequestView,
  content: JsonObject[],
  stopReason: string,
  extras: ClaudeExtras,
  seed: string,
): { content: JsonObject[]; stopReason: string } {
  const server = extras.serverTool ? serverToolBlocks(extras.serverTool, view, seed) : [];
  // Paused after a server tool: the content is that tool's blocks; the answer comes in the continuation.
  const body =
    stopReason === 'pause_turn'
      ? server.length > 0
        ? server
        : pauseTurn(content, view, seed)
      : [...server, ...content];
  return truncate([...thinkingBlocks(view, extras, seed), ...body], stopReason, view.maxTokens);
}
