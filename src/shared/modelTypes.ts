import { z } from 'zod';
import { FileMediaType } from './fileTypes.js';
import { PayloadRef } from './payloadRef.js';
import { RunTrace } from './traceTypes.js';

/** A JSON Schema document, kept as plain JSON so it crosses the activity boundary unchanged. */
export const JsonSchema = z.record(z.string(), z.unknown());
export type JsonSchema = z.infer<typeof JsonSchema>;

export const TextBlock = z.strictObject({ type: z.literal('text'), text: z.string() });
export type TextBlock = z.infer<typeof TextBlock>;

export const ToolUseBlock = z.strictObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
export type ToolUseBlock = z.infer<typeof ToolUseBlock>;

/**
 * An image or PDF for the model (src/files/README.md). History carries `blobRef` only; callModel loads the
 * bytes into `data` (base64) just before the call, checks them, and the provider turns the block into
 * Claude's `image` / `document` block or GPT's image / file part.
 */
export const FileBlock = z.strictObject({
  type: z.literal('file'),
  mediaType: FileMediaType,
  /** `<container>/<path>` of the bytes. */
  blobRef: z.string().min(1).optional(),
  /** The bytes as base64, set by callModel for the provider; never kept in history. */
  data: z.string().min(1).optional(),
  bytes: z.int().nonnegative().optional(),
  width: z.int().positive().optional(),
  height: z.int().positive().optional(),
  pages: z.int().positive().optional(),
  /** A file name for providers that want one (GPT file parts). */
  name: z.string().min(1).max(255).optional(),
});
export type FileBlock = z.infer<typeof FileBlock>;

export const ToolResultBlock = z.strictObject({
  type: z.literal('tool_result'),
  toolUseId: z.string().min(1),
  content: z.string(),
  isError: z.boolean().default(false),
  /** Images (e.g. a run_code chart) that go back to the model with the result, where the provider takes them. */
  files: z.array(FileBlock).optional(),
});
export type ToolResultBlock = z.infer<typeof ToolResultBlock>;

/** Claude's thinking, kept verbatim: it must go back unmodified with the tool results of its turn. */
export const ThinkingBlock = z.strictObject({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z.string(),
});
export type ThinkingBlock = z.infer<typeof ThinkingBlock>;

/** Claude thinking the API redacted: opaque `data`, returned unchanged like a thinking block. */
export const RedactedThinkingBlock = z.strictObject({
  type: z.literal('redacted_thinking'),
  data: z.string().min(1),
});
export type RedactedThinkingBlock = z.infer<typeof RedactedThinkingBlock>;
/**
 * An OpenAI reasoning item (Responses API), kept encrypted (`store: false` with
 * `include: ['reasoning.encrypted_content']`) and sent back on the next turn, as a function call's reasoning
 * must be: https://platform.openai.com/docs/guides/reasoning#keeping-reasoning-items-in-context. Other
 * providers skip it.
 */
export const ReasoningBlock = z.strictObject({
  type: z.literal('reasoning'),
  id: z.string().min(1),
  encryptedContent: z.string().min(1),
  summary: z.array(z.string()).optional(),
});
export type ReasoningBlock = z.infer<typeof ReasoningBlock>;

/**
 * A provider's own content block kept verbatim, e.g. Claude's `server_tool_use` and `web_search_tool_result`
 * (ContentBlock in node_modules/@anthropic-ai/sdk/src/resources/messages/messages.ts): it goes back to that
 * provider unmodified (a `pause_turn` continuation needs it:
 * https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons#pause-turn); other providers
 * skip it. `block` is plain JSON, so it survives activity history and the transcript blob.
 */
export const ProviderBlock = z.strictObject({
  type: z.literal('provider'),
  provider: z.literal('anthropic'),
  block: z
    .record(z.string(), z.json())
    .refine((block) => typeof block.type === 'string' && block.type !== '', {
      error: 'A provider block needs its own "type"',
    }),
});
export type ProviderBlock = z.infer<typeof ProviderBlock>;

export const ContentBlock = z.discriminatedUnion('type', [
  TextBlock,
  FileBlock,
  ToolUseBlock,
  ToolResultBlock,
  ThinkingBlock,
  RedactedThinkingBlock,
  ReasoningBlock,
  ProviderBlock,
]);
export type ContentBlock = z.infer<typeof ContentBlock>;

/** One turn of the provider-neutral transcript. Tool results travel in `user` turns, as in the Messages API. */
export const ModelMessage = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.array(ContentBlock).min(1),
});
export type ModelMessage = z.infer<typeof ModelMessage>;

export const ToolDefinition = z.strictObject({
  name: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, { error: 'Tool names are 1-64 letters, digits, "_" or "-"' }),
  description: z.string(),
  inputSchema: JsonSchema,
});
export type ToolDefinition = z.infer<typeof ToolDefinition>;

/**
 * A transcript too large for activity history, stored in Blob storage (claim check) and resolved by the
 * activity: the stored messages, then `tail` (messages added since it was stored, so it is not stored
 * every turn).
 */
export const TranscriptRef = z.strictObject({
  ref: PayloadRef,
  tail: z.array(ModelMessage).optional(),
});
export type TranscriptRef = z.infer<typeof TranscriptRef>;

/**
 * The transcript reference of instances older than the transcript claim check
 * (src/orchestrators/transcriptLegacy.ts): a `saveArtifact` blob's `blobRef`, then `tail`.
 */
export const LegacyTranscriptRef = z.strictObject({
  blobRef: z.string().min(1),
  tail: z.array(ModelMessage).optional(),
});
export type LegacyTranscriptRef = z.infer<typeof LegacyTranscriptRef>;

export const RoleName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/, { error: 'Roles are lower-case letters, digits and "_", e.g. "planner"' });
export type RoleName = z.infer<typeof RoleName>;

export const ProviderKind = z.enum(['foundry', 'anthropic', 'azure-openai', 'openai']);
export type ProviderKind = z.infer<typeof ProviderKind>;

/** One deployment on one provider, e.g. a workflow's `roles: { worker: "openai:gpt-5.4" }`. */
export const ModelRouteSpec = z.strictObject({ provider: ProviderKind, deployment: z.string().min(1) });
export type ModelRouteSpec = z.infer<typeof ModelRouteSpec>;

/**
 * A workflow's `roles` entry: another role's name, or `provider:deployment` (split here; the caller
 * checks the provider).
 */
export function splitRoleTarget(target: string): { role: string } | { provider: string; deployment: string } {
  const colon = target.indexOf(':');
  return colon < 0
    ? { role: target }
    : { provider: target.slice(0, colon), deployment: target.slice(colon + 1) };
}

/** A step's Claude thinking setting (see src/models/README.md). */
export const ThinkingSetting = z.enum(['adaptive', 'off']);
export type ThinkingSetting = z.infer<typeof ThinkingSetting>;
/** Claude's `output_config.effort` levels (OutputConfig in the SDK types). */
export const EffortSetting = z.enum(['low', 'medium', 'high', 'xhigh', 'max']);
export type EffortSetting = z.infer<typeof EffortSetting>;
/** `reasoning.effort` values of OpenAI's reasoning models (node_modules/openai/src/resources/shared.ts). */
export const ReasoningEffort = z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);
export type ReasoningEffort = z.infer<typeof ReasoningEffort>;

export const CallModelInput = z.strictObject({
  /** `planner`, `worker`, `writer` or a custom role from configuration; never a model name. */
  role: RoleName,
  system: z.string().optional(),
  messages: z.union([z.array(ModelMessage).min(1), TranscriptRef, LegacyTranscriptRef]),
  tools: z.array(ToolDefinition).optional(),
  /** When set, the answer must be JSON matching this schema; it comes back parsed in `structured`. */
  outputSchema: JsonSchema.optional(),
  maxTokens: z.number().int().positive().max(64_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  /** Claude thinking: `adaptive` turns it on, `off` sends `disabled`; omitted = the model's default. */
  thinking: ThinkingSetting.optional(),
  /** Claude `output_config.effort`. */
  effort: EffortSetting.optional(),
  /** OpenAI reasoning effort (Responses API `reasoning.effort`); ignored by other providers. */
  reasoningEffort: ReasoningEffort.optional(),
  runId: z.string().min(1),
  stepId: z.string().min(1),
  /** A workflow's own deployment for this role: tried first, then the role's configured chain. */
  route: ModelRouteSpec.optional(),
  /** 0 = the role's own deployment; n = the n-th entry of its fallback chain. */
  attempt: z.number().int().nonnegative().default(0),
  /** The run's trace context: the call's span joins the run's trace (src/telemetry/README.md). */
  trace: RunTrace.optional(),
});
/** What callers pass (`attempt` and `isError` may be omitted). */
export type CallModelInputArgs = z.input<typeof CallModelInput>;
export type CallModelInput = z.infer<typeof CallModelInput>;

export const StopReason = z.enum([
  'end_turn',
  'tool_use',
  'max_tokens',
  'stop_sequence',
  'refusal',
  'pause_turn',
  'context_window_exceeded',
  'content_filter',
  'other',
]);
export type StopReason = z.infer<typeof StopReason>;

export const TokenUsage = z.strictObject({
  /** Input tokens billed at the full rate (cache reads and writes excluded). */
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheWriteTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

/**
 * Images and PDFs sent in a call, and their estimated input tokens and cost by the provider's documented
 * formula (included in `usage`, which is what the provider billed; this is the breakdown).
 */
export const FileUsage = z.strictObject({
  images: z.int().nonnegative(),
  documents: z.int().nonnegative(),
  pages: z.int().nonnegative(),
  estimatedTokens: z.int().nonnegative(),
  estimatedCostUsd: z.number().nonnegative(),
});
export type FileUsage = z.infer<typeof FileUsage>;

/**
 * Claude server tools a call used (src/models/serverTools.ts) and their fees beyond tokens, included in
 * `costUsd`: web searches ($10 per 1,000), web fetches (no fee), code execution (an estimated
 * `containerHours` at $0.05 an hour).
 */
export const ServerToolUse = z.strictObject({
  webSearches: z.int().nonnegative(),
  webFetches: z.int().nonnegative(),
  codeExecutions: z.int().nonnegative(),
  containerHours: z.number().nonnegative(),
  feeUsd: z.number().nonnegative(),
});
export type ServerToolUse = z.infer<typeof ServerToolUse>;

export const CallModelSuccess = z.strictObject({
  ok: z.literal(true),
  message: ModelMessage.extend({ role: z.literal('assistant') }),
  stopReason: StopReason,
  /** The parsed answer, present when `outputSchema` was given and the model finished its turn. */
  structured: z.unknown().optional(),
  usage: TokenUsage,
  costUsd: z.number().nonnegative(),
  /** False when the model has no entry in the price table, so `costUsd` is 0 rather than a guess. */
  priced: z.boolean(),
  provider: ProviderKind,
  deployment: z.string(),
  /** The model the endpoint says answered (may carry a date suffix the deployment name lacks). */
  model: z.string(),
  offline: z.boolean(),
  latencyMs: z.number().nonnegative(),
  /** The output limit this call ran with and the model's own limits, when known (src/models/modelLimits.ts). */
  limits: z
    .strictObject({
      maxTokens: z.number().int().positive(),
      maxOutputTokens: z.number().int().positive().optional(),
      contextWindow: z.number().int().positive().optional(),
    })
    .optional(),
  /** Whether the role's fallback chain has an entry after this `attempt` (for a refusal's fallback). */
  fallbackAvailable: z.boolean().optional(),
  /** The image and PDF inputs of this call and their share of the input (src/files/README.md). */
  files: FileUsage.optional(),
  /** Claude server tools the call used and their fees (part of `costUsd`). */
  serverTools: ServerToolUse.optional(),
});
export type CallModelSuccess = z.infer<typeof CallModelSuccess>;

export const FailureKind = z.enum([
  'rate_limited',
  'overloaded',
  'server_error',
  'timeout',
  'network',
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'unprocessable',
  'invalid_output',
  /** The output hit `max_tokens` even after one retry with a higher limit. */
  'max_tokens',
  /** The model declined (Claude `stop_reason: refusal`, OpenAI `refusal` / `content_filter`). */
  'refusal',
  /** The prompt does not fit the deployment's context window. */
  'context_window_exceeded',
]);
export type FailureKind = z.infer<typeof FailureKind>;

// Retryable failures are returned, not thrown: the orchestrator waits out `retryAfterMs` on a durable
// timer and chooses the fallback, which a thrown error (retried blindly by callActivityWithRetry) can't.
export const CallModelFailure = z.strictObject({
  ok: z.literal(false),
  retryable: z.boolean(),
  kind: FailureKind,
  status: z.number().int().optional(),
  retryAfterMs: z.number().nonnegative().optional(),
  /** Human-readable and free of keys and tokens. */
  message: z.string(),
  provider: ProviderKind,
  deployment: z.string(),
  /** Whether the role's fallback chain has an entry after this `attempt`. */
  fallbackAvailable: z.boolean(),
  /**
   * The billed answer behind an `invalid_output` failure: the ledger books it and the repair call
   * quotes it back to the model.
   */
  answered: CallModelSuccess.optional(),
});
export type CallModelFailure = z.infer<typeof CallModelFailure>;

/** How callModel's `invalid_output` message for an off-schema answer starts; the validation errors follow. */
export const OFF_SCHEMA_MESSAGE = 'Structured answer does not match outputSchema: ';

export const CallModelResult = z.discriminatedUnion('ok', [CallModelSuccess, CallModelFailure]);
export type CallModelResult = z.infer<typeof CallModelResult>;
