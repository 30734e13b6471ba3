/**
 * Request rules of the Claude Messages API that the offline model enforces: a request that breaks one gets
 * the 400 `invalid_request_error` the real API sends. Each rule cites its source; the table in README.md
 * ("Claude Messages API rules") lists them all. The request body has already passed the shape check in
 * requestView.ts; these are the rules that need more than a shape.
 */
import { unknownToolTypeProblem } from './serverTools.js';
import { createHash } from 'node:crypto';
import { findModelLimits } from '../models/modelLimits.js';
import { claudeSchemaProblem } from './claudeSchemaRules.js';

type Json = Record<string, unknown>;
type Block = Json & { readonly type: string };
interface Turn {
  readonly role: 'user' | 'assistant';
  readonly blocks: readonly Block[];
  /** Index of the first message merged into this turn, for error paths. */
  readonly index: number;
}

/** What a model accepts, from its model page and the models overview. */
interface ClaudeModelRules {
  /**
   * Whether a final `assistant` turn (prefill) is accepted. Removed from Claude 4.6 on:
   * https://platform.claude.com/docs/en/about-claude/models/whats-new-claude-4-6#prefill-removal and
   * https://platform.claude.com/docs/en/api/errors#prefill-not-supported (quoted in the SDK's `messages` doc,
   * node_modules/@anthropic-ai/sdk/src/resources/messages/messages.ts).
   */
  readonly prefill: boolean;
  /**
   * `off`: no thinking unless asked. `default-on`: adaptive thinking when `thinking` is omitted (Opus 5:
   * https://platform.claude.com/docs/en/models/opus-5/migration-guide). `always-on`: `disabled` and
   * `enabled` are rejected (Opus 5.5, Fable 5.1: https://platform.claude.com/docs/en/models/opus-5-5/whats-new-opus-5-5).
   */
  readonly thinking: 'off' | 'default-on' | 'always-on';
  /** Whether adaptive thinking and `output_config.effort` exist (Haiku 4.5: "Extended" thinking, effort "Not supported" in the overview). */
  readonly adaptive: boolean;
}

/** Longest prefix wins; dated ids (`claude-haiku-4-5-20251001`) match their alias. */
const MODELS: readonly [string, ClaudeModelRules][] = [
  ['claude-haiku-4-5', { prefill: true, thinking: 'off', adaptive: false }],
  ['claude-sonnet-4-5', { prefill: true, thinking: 'off', adaptive: false }],
  ['claude-opus-4-5', { prefill: true, thinking: 'off', adaptive: true }],
  ['claude-sonnet-4-6', { prefill: false, thinking: 'off', adaptive: true }],
  ['claude-opus-4-6', { prefill: false, thinking: 'off', adaptive: true }],
  ['claude-opus-4-7', { prefill: false, thinking: 'off', adaptive: true }],
  ['claude-opus-4-8', { prefill: false, thinking: 'off', adaptive: true }],
  ['claude-opus-5-5', { prefill: false, thinking: 'always-on', adaptive: true }],
  ['claude-opus-5', { prefill: false, thinking: 'default-on', adaptive: true }],
  ['claude-sonnet-5', { prefill: false, thinking: 'off', adaptive: true }],
  ['claude-fable-5-1', { prefill: false, thinking: 'always-on', adaptive: true }],
  ['claude-fable-5', { prefill: false, thinking: 'always-on', adaptive: true }],
];
/** Models not in the table: no prefill from the 4.6 generation on, nothing else assumed. */
const UNKNOWN_MODEL: ClaudeModelRules = { prefill: true, thinking: 'off', adaptive: true };
const NO_PREFILL_FAMILY = /^claude-(opus|sonnet|haiku|fable|mythos)-(4-[6-9]|[5-9])/;

export function claudeModelRules(model: string): ClaudeModelRules {
  const match = MODELS.filter(([prefix]) => model === prefix || model.startsWith(`${prefix}-`)).sort(
    (a, b) => b[0].length - a[0].length,
  )[0];
  if (match) return match[1];
  return NO_PREFILL_FAMILY.test(model) ? { ...UNKNOWN_MODEL, prefill: false } : UNKNOWN_MODEL;
}

/**
 * The offline model's `signature` for a thinking block it produced: a keyed hash of the text, so a block
 * sent back modified fails verification like a real one does ("Thinking blocks must be passed back
 * unmodified", ThinkingBlockParam in node_modules/@anthropic-ai/sdk/src/resources/messages/messages.ts).
 */
export function thinkingSignature(thinking: string): string {
  return `offline-sig-${createHash('sha256').update(`offline-thinking\u0000${thinking}`).digest('base64url')}`;
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function blocksOf(content: unknown): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content)
    ? content.filter((b): b is Block => isObject(b) && typeof b.type === 'string')
    : [];
}

/**
 * Consecutive messages with the same role form one turn ("Consecutive `user` or `assistant` turns in your
 * request will be combined into a single turn": `messages` in the SDK's MessageCreateParamsBase).
 */
function turnsOf(messages: readonly Json[]): Turn[] {
  const turns: Turn[] = [];
  messages.forEach((message, index) => {
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const last = turns.at(-1);
    if (last?.role === role)
      turns[turns.length - 1] = { ...last, blocks: [...last.blocks, ...blocksOf(message.content)] };
    else turns.push({ role, blocks: blocksOf(message.content), index });
  });
  return turns;
}

/**
 * Removed request parameters. The Messages API version the SDK speaks (`anthropic-version: 2026-10-21`,
 * node_modules/@anthropic-ai/sdk/src/client.ts) has no `temperature`, `top_p` or `top_k`
 * (MessageCreateParamsBase in src/resources/messages/messages.ts); unknown fields get "Extra inputs are not
 * permitted".
 */
function removedParameter(body: Json): string | undefined {
  for (const name of ['temperature', 'top_p', 'top_k']) {
    if (body[name] !== undefined) return `${name}: Extra inputs are not permitted`;
  }
  return undefined;
}

/**
 * Source: the `max_tokens` doc in MessageCreateParamsBase, and the models overview for each maximum (the
 * app's own table, src/models/modelLimits.ts).
 */
function maxTokensProblem(body: Json, model: string): string | undefined {
  const maxTokens = Number(body.max_tokens);
  const maxOutput = findModelLimits(model)?.maxOutputTokens;
  if (maxOutput !== undefined && maxTokens > maxOutput) {
    return `max_tokens: ${maxTokens} > ${maxOutput}, which is the maximum allowed number of output tokens for ${model}`;
  }
  return undefined;
}

/**
 * At most 4 `cache_control` breakpoints per request (tools, system and message blocks; a top-level
 * `cache_control` uses one). Source: https://platform.claude.com/docs/en/build-with-claude/prompt-caching
 * ("You can define up to 4 cache breakpoints").
 */
function cacheBreakpointProblem(body: Json): string | undefined {
  let count = body.cache_control ? 1 : 0;
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
  const blocks: unknown[] = [
    ...list(body.tools),
    ...list(body.system),
    ...list(body.messages).flatMap((m) => (isObject(m) ? list(m.content) : [])),
  ];
  for (const block of blocks) {
    if (isObject(block) && block.cache_control) count += 1;
    if (isObject(block) && block.type === 'tool_result' && Array.isArray(block.content)) {
      count += block.content.filter((part: unknown) => isObject(part) && part.cache_control).length;
    }
  }
  return count > 4 ? `A maximum of 4 blocks with cache_control may be provided. Found ${count}.` : undefined;
}

/**
 * Structured output schemas: `output_config.format` must be `json_schema` with a schema Claude supports, and
 * so must the `input_schema` of a tool with `strict: true`. Source: claudeSchemaRules.ts and
 * https://platform.claude.com/docs/en/build-with-claude/structured-outputs.
 */
function schemaProblem(body: Json): string | undefined {
  const config = isObject(body.output_config) ? body.output_config : undefined;
  const format = config && isObject(config.format) ? config.format : undefined;
  if (format) {
    if (format.type !== 'json_schema') return `output_config.format.type: Input should be 'json_schema'`;
    const problem = claudeSchemaProblem(format.schema, 'output_config.format.schema');
    if (problem) return problem;
  }
  const tools = Array.isArray(body.tools) ? body.tools : [];
  for (const [index, tool] of tools.entries()) {
    if (isObject(tool) && tool.strict === true) {
      const problem = claudeSchemaProblem(tool.input_schema, `tools.${index}.input_schema`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * `output_config.effort` values (OutputConfig in the SDK types) and models without effort or adaptive
 * thinking (Haiku 4.5: models overview, "Default effort: Not supported", thinking "Extended").
 */
function effortProblem(body: Json, model: string, rules: ClaudeModelRules): string | undefined {
  const config = isObject(body.output_config) ? body.output_config : undefined;
  const effort = config?.effort;
  if (effort === undefined || effort === null) return undefined;
  if (typeof effort !== 'string' || !['low', 'medium', 'high', 'xhigh', 'max'].includes(effort)) {
    return `output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'`;
  }
  return rules.adaptive ? undefined : `output_config.effort: effort is not supported for ${model}`;
}

/** Whether the model thinks on this request, or why the `thinking` setting is rejected. */
function thinkingState(
  body: Json,
  model: string,
  rules: ClaudeModelRules,
): { on: boolean; problem?: string } {
  const thinking = isObject(body.thinking) ? body.thinking : undefined;
  const type = thinking?.type;
  if (type === undefined) return { on: rules.thinking !== 'off' };
  if (typeof type !== 'string' || !['enabled', 'adaptive', 'disabled', 'between_tools'].includes(type)) {
    return {
      on: false,
      problem: `thinking.type: Input should be 'enabled', 'adaptive', 'disabled' or 'between_tools'`,
    };
  }
  // Opus 5.5 / Fable 5.1: https://platform.claude.com/docs/en/models/opus-5-5/whats-new-opus-5-5#thinking-cant-be-disabled
  if (rules.thinking === 'always-on' && (type === 'disabled' || type === 'enabled')) {
    return {
      on: true,
      problem: `"thinking.type.${type}" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.`,
    };
  }
  if (type === 'adaptive' && !rules.adaptive) {
    return { on: true, problem: `thinking.type: "adaptive" thinking is not supported for ${model}` };
  }
  if (type === 'enabled') {
    // ThinkingConfigEnabled.budget_tokens: "Must be ≥1024 and less than `max_tokens`" (SDK types).
    const budget = Number(thinking?.budget_tokens);
    if (!Number.isInteger(budget) || budget < 1024) {
      return {
        on: true,
        problem: 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024',
      };
    }
    if (budget >= Number(body.max_tokens)) {
      return { on: true, problem: '`max_tokens` must be greater than `thinking.budget_tokens`' };
    }
  }
  return { on: type === 'enabled' || type === 'adaptive' || type === 'between_tools' };
}

/**
 * Thinking with tools. Sources: https://platform.claude.com/docs/en/build-with-claude/extended-thinking
 * ("Extended thinking with tool use": only `tool_choice` `auto` or `none`; thinking blocks of the last
 * assistant turn must be passed back unmodified) and, for models whose thinking is always on,
 * https://platform.claude.com/docs/en/models/opus-5-5/whats-new-opus-5-5#forced-tool-use-is-not-supported.
 */
function thinkingToolProblem(body: Json, turns: readonly Turn[]): string | undefined {
  const choice = isObject(body.tool_choice) ? body.tool_choice.type : undefined;
  if (choice === 'any' || choice === 'tool') {
    return 'Thinking may not be enabled when tool_choice forces tool use.';
  }
  const lastAssistant = [...turns].reverse().find((turn) => turn.role === 'assistant');
  if (lastAssistant?.blocks.some((block) => block.type === 'tool_use')) {
    const first = lastAssistant.blocks[0];
    if (first?.type !== 'thinking' && first?.type !== 'redacted_thinking') {
      return `messages.${lastAssistant.index}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first?.type ?? 'nothing'}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`.`;
    }
  }
  return undefined;
}

/** Thinking blocks sent back must be the model's own, unmodified (signature check). */
function thinkingBlockProblem(turns: readonly Turn[]): string | undefined {
  for (const turn of turns) {
    if (turn.role !== 'assistant') continue;
    for (const [position, block] of turn.blocks.entries()) {
      if (block.type === 'thinking') {
        if (typeof block.thinking !== 'string' || typeof block.signature !== 'string') {
          return `messages.${turn.index}.content.${position}: thinking blocks need \`thinking\` and \`signature\` strings`;
        }
        if (block.signature !== thinkingSignature(block.thinking)) {
          return `messages.${turn.index}.content.${position}: Invalid \`signature\` in \`thinking\` block`;
        }
      } else if (
        block.type === 'redacted_thinking' &&
        (typeof block.data !== 'string' || block.data === '')
      ) {
        return `messages.${turn.index}.content.${position}.data: Field required`;
      }
    }
  }
  return undefined;
}

/**
 * Every `tool_use` is answered by a `tool_result` at the start of the very next user turn, and every
 * `tool_result` answers a `tool_use` of the turn before. Source:
 * https://platform.claude.com/docs/en/agents-and-tools/tool-use/handle-tool-calls ("Tool result blocks must
 * immediately follow their corresponding tool use blocks" / "must come FIRST in the content array").
 */
function toolResultProblem(turns: readonly Turn[]): string | undefined {
  for (const [position, turn] of turns.entries()) {
    const previous = position > 0 ? turns[position - 1] : undefined;
    if (turn.role === 'user') {
      const expected = new Set(
        previous?.role === 'assistant'
          ? previous.blocks.flatMap((b) => (b.type === 'tool_use' ? [String(b.id)] : []))
          : [],
      );
      let leading = true;
      for (const [index, block] of turn.blocks.entries()) {
        if (block.type !== 'tool_result') {
          leading = false;
          continue;
        }
        if (!leading) {
          return `messages.${turn.index}.content.${index}: \`tool_result\` blocks must come first in the user message, before any other content`;
        }
        if (!expected.has(String(block.tool_use_id))) {
          return `messages.${turn.index}.content.${index}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
        }
      }
    }
    if (turn.role === 'assistant') {
      const ids = turn.blocks.flatMap((b) => (b.type === 'tool_use' ? [String(b.id)] : []));
      if (ids.length === 0) continue;
      const next = turns[position + 1];
      const answered = new Set(
        next?.role === 'user'
          ? next.blocks.flatMap((b) => (b.type === 'tool_result' ? [String(b.tool_use_id)] : []))
          : [],
      );
      const missing = ids.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return `messages.${next?.index ?? turn.index}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
      }
    }
  }
  return undefined;
}

/**
 * A final assistant turn (prefill). Rejected on models without prefill (see ClaudeModelRules.prefill), with
 * structured outputs ("Incompatible with message prefilling":
 * https://platform.claude.com/docs/en/build-with-claude/structured-outputs) and with thinking
 * (https://platform.claude.com/docs/en/build-with-claude/extended-thinking). A `pause_turn` continuation,
 * which sends the paused turn back with its `server_tool_use` blocks, is not a prefill
 * (https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons).
 */
function prefillProblem(
  body: Json,
  turns: readonly Turn[],
  rules: ClaudeModelRules,
  thinking: boolean,
): string | undefined {
  const last = turns.at(-1);
  if (last?.role !== 'assistant') return undefined;
  if (last.blocks.some((block) => block.type === 'server_tool_use')) return undefined;
  if (!rules.prefill) {
    return 'This model does not support assistant message prefill. The conversation must end with a user message.';
  }
  const config = isObject(body.output_config) ? body.output_config : undefined;
  if (config?.format)
    return 'Prefilling assistant messages is not supported with structured outputs (output_config.format).';
  if (thinking) return 'Prefilling assistant messages is not supported when thinking is enabled.';
  return undefined;
}

/** Whether the model thinks on this request: asked for, or on by default for the model. */
export function claudeThinks(body: Json): boolean {
  const model = String(body.model);
  return thinkingState(body, model, claudeModelRules(model)).on;
}

/** Why the Claude API would reject this (shape-checked) Messages request, or undefined if it accepts it. */
export function anthropicRequestProblem(body: Json): string | undefined {
  const model = String(body.model);
  const rules = claudeModelRules(model);
  const turns = turnsOf(Array.isArray(body.messages) ? body.messages.filter(isObject) : []);
  const thinking = thinkingState(body, model, rules);
  return (
    removedParameter(body) ??
    unknownToolTypeProblem(body.tools) ??
    maxTokensProblem(body, model) ??
    thinking.problem ??
    effortProblem(body, model, rules) ??
    cacheBreakpointProblem(body) ??
    schemaProblem(body) ??
    thinkingBlockProblem(turns) ??
    toolResultProblem(turns) ??
    (thinking.on ? thinkingToolProblem(body, turns) : undefined) ??
    prefillProblem(body, turns, rules, thinking.on)
  );
}
