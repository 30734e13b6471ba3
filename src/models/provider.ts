import type {
  JsonSchema,
  ModelMessage,
  ProviderKind,
  ReasoningEffort,
  ServerToolUse,
  StopReason,
  TokenUsage,
  ToolDefinition,
  EffortSetting,
  ThinkingSetting,
} from '../shared/modelTypes.js';
import type { ModelBatchApi } from './providerBatch.js';
import type { Secret } from './secret.js';

/** One model call, already routed to a deployment. */
export interface ProviderRequest {
  readonly deployment: string;
  readonly system?: string;
  readonly messages: readonly ModelMessage[];
  readonly tools?: readonly ToolDefinition[];
  readonly outputSchema?: JsonSchema;
  readonly maxTokens: number;
  readonly temperature?: number;
  /** Claude only (the OpenAI provider ignores them). */
  readonly thinking?: ThinkingSetting;
  readonly effort?: EffortSetting;
  /** OpenAI reasoning effort; other providers ignore it. */
  readonly reasoningEffort?: ReasoningEffort;
}

export interface ProviderResponse {
  readonly message: ModelMessage & { readonly role: 'assistant' };
  readonly stopReason: StopReason;
  /** The parsed JSON answer when an output schema was requested and the turn ended; not yet schema-checked. */
  readonly structured?: { readonly value: unknown };
  readonly usage: TokenUsage;
  readonly model: string;
  readonly offline: boolean;
  /** Claude server tools the answer used, with their fees (serverTools.ts). */
  readonly serverTools?: ServerToolUse;
}

/** A configured endpoint speaking one wire protocol. Throws SDK errors; callers classify them. */
export interface ModelProvider {
  readonly kind: ProviderKind;
  /** Values to scrub from any error text this provider produces. */
  readonly secrets: readonly Secret[];
  call(request: ProviderRequest): Promise<ProviderResponse>;
  /** The provider's batch API, when it has one (Microsoft Foundry has none). */
  readonly batches?: ModelBatchApi;
}

/** OpenAI has no error flag on tool results (both its APIs): the model reads this marker instead. */
export const TOOL_ERROR_PREFIX = '[tool error] ';

/** Name of the tool that carries a structured answer when a provider uses forced tool calls for it. */
export const STRUCTURED_OUTPUT_TOOL = 'emit_output';

export const STRUCTURED_OUTPUT_TOOL_DESCRIPTION =
  'Give your final answer by calling this tool exactly once, with the answer as its input.';

/**
 * Whether a turn that stopped this way should carry the structured answer. A cut-off (`max_tokens`),
 * declined or paused turn has none: it comes back as is and the orchestrator's policy handles the
 * stop reason (retry with a higher limit, fallback), instead of an `invalid_output` for half a JSON.
 */
export function carriesAnswer(stopReason: StopReason): boolean {
  return ![
    'tool_use',
    'max_tokens',
    'refusal',
    'content_filter',
    'pause_turn',
    'context_window_exceeded',
  ].includes(stopReason);
}

/** JSON text to a value, or an error naming what was wrong (the caller decides the error type). */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, problem: error instanceof Error ? error.message : String(error) };
  }
}
