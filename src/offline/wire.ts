import { claudeContent, type ClaudeExtras } from './anthropicEmit.js';
import type { PromptCacheUsage } from './promptCache.js';
import { tokens } from './constants.js';
import { shortHash } from './prng.js';
import type { JsonObject, Protocol, RequestView } from './requestView.js';
import { responsesBody, type IssuedReasoning } from './responsesWire.js';
import { serverToolAccounting } from './serverTools.js';

export interface WireUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheWriteTokens?: number;
  readonly cacheReadTokens?: number;
}

interface ReplyBase {
  /** Wait this long before answering (past the client timeout to simulate a hung endpoint). */
  readonly delayMs?: number;
}

/** Claude only: thinking blocks to emit with an answer (anthropicEmit.ts). */
type AnswerBase = ReplyBase & ClaudeExtras;

/** A protocol-neutral answer; the server renders it in the wire shape of the incoming request. */
export type ModelReply = AnswerBase &
  (
    | {
        readonly kind: 'text';
        readonly text: string;
        /** `pause_turn` (Claude only) ends the content with the server tool call it paused in. */
        readonly stopReason?: 'end_turn' | 'max_tokens' | 'refusal' | 'pause_turn';
        readonly usage?: Partial<WireUsage>;
      }
    | {
        readonly kind: 'tool_use';
        /** `max_tokens`: the call was cut off (Claude: the block with an unusable input). */
        readonly stopReason?: 'max_tokens';
        readonly name: string;
        readonly input: JsonObject;
        readonly id?: string;
        readonly text?: string;
        readonly usage?: Partial<WireUsage>;
      }
    | { readonly kind: 'structured'; readonly value: unknown; readonly usage?: Partial<WireUsage> }
    | {
        readonly kind: 'error';
        readonly status: number;
        readonly message?: string;
        readonly retryAfterSeconds?: number;
        readonly retryAfterMs?: number;
        readonly headers?: Readonly<Record<string, string>>;
      }
    | { readonly kind: 'malformed'; readonly variant?: 'unparseable' | 'missing-fields' }
    | {
        readonly kind: 'raw';
        readonly status?: number;
        readonly headers?: Readonly<Record<string, string>>;
        readonly body?: unknown;
      }
    | { readonly kind: 'offline' }
    /** For a batch create request: the batch reports in_progress for this many polls before it ends. */
    | { readonly kind: 'batch'; readonly inProgressPolls?: number }
    /** For one request inside a batch: never processed, because the batch expired or was canceled. */
    | { readonly kind: 'unprocessed'; readonly outcome: 'expired' | 'canceled' }
  );

export interface WireResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A reply the server can put on the wire as is (the `offline` kind is first turned into one of these). */
export type RenderableReply = Exclude<ModelReply, { kind: 'offline' }>;

const JSON_TYPE = { 'content-type': 'application/json' };
/** The deterministic input-token estimate of a request (chars / 4), as usage reports it. */
export const promptTokens = (view: RequestView): number => tokens(view.promptChars);

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/**
 * Token counts: scripted `usage` fields win (unset ones count the prompt); otherwise the prompt cache's
 * simulation (promptCache.ts) splits the prompt into cache reads, cache writes and the rest.
 */
function usageFor(
  view: RequestView,
  outputChars: number,
  usage: Partial<WireUsage> | undefined,
  cache: PromptCacheUsage | undefined,
): Required<WireUsage> {
  if (!usage && cache) {
    return {
      inputTokens: Math.max(0, tokens(view.promptChars) - cache.cacheReadTokens - cache.cacheWriteTokens),
      outputTokens: tokens(outputChars),
      cacheWriteTokens: cache.cacheWriteTokens,
      cacheReadTokens: cache.cacheReadTokens,
    };
  }
  return {
    inputTokens: usage?.inputTokens ?? tokens(view.promptChars),
    outputTokens: usage?.outputTokens ?? tokens(outputChars),
    cacheWriteTokens: usage?.cacheWriteTokens ?? 0,
    cacheReadTokens: usage?.cacheReadTokens ?? 0,
  };
}

/** What the prompt cache read, as a Responses usage override: the prompt split into billed and cached tokens. */
function cachedUsage(view: RequestView, cache: PromptCacheUsage | undefined): Partial<WireUsage> | undefined {
  if (!cache) return undefined;
  const cacheReadTokens = Math.min(cache.cacheReadTokens, tokens(view.promptChars));
  return { inputTokens: tokens(view.promptChars) - cacheReadTokens, cacheReadTokens };
}

/** Structured answers on Anthropic go where the request asked: a forced tool's input, or JSON text. */
function anthropicStructuredTool(view: RequestView): string | undefined {
  if (view.outputSchema) return undefined;
  if (typeof view.toolChoice === 'object') return view.toolChoice.name;
  return view.toolChoice === 'any' ? view.tools.at(-1)?.name : undefined;
}

function anthropicBody(
  view: RequestView,
  reply: Extract<RenderableReply, { kind: 'text' | 'tool_use' | 'structured' }>,
  seed: string,
  cache: PromptCacheUsage | undefined,
) {
  const id = shortHash(`${seed}:id`, 24);
  let content: JsonObject[];
  let stopReason: string;
  if (reply.kind === 'text') {
    content = [{ type: 'text', text: reply.text, citations: null }];
    stopReason = reply.stopReason ?? 'end_turn';
  } else if (reply.kind === 'tool_use' || anthropicStructuredTool(view)) {
    const name = reply.kind === 'tool_use' ? reply.name : (anthropicStructuredTool(view) ?? '');
    const input = reply.kind === 'tool_use' ? reply.input : reply.value;
    const lead =
      reply.kind === 'tool_use' && reply.text ? [{ type: 'text', text: reply.text, citations: null }] : [];
    const toolId =
      reply.kind === 'tool_use' && reply.id ? reply.id : `toolu_offline_${shortHash(`${seed}:tool`, 20)}`;
    const cut = reply.kind === 'tool_use' && reply.stopReason === 'max_tokens';
    content = [...lead, { type: 'tool_use', id: toolId, name, input: cut ? {} : input }];
    stopReason = cut ? 'max_tokens' : 'tool_use';
  } else {
    content = [{ type: 'text', text: JSON.stringify(reply.value), citations: null }];
    stopReason = 'end_turn';
  }
  ({ content, stopReason } = claudeContent(view, content, stopReason, reply, seed));
  const counted = usageFor(view, JSON.stringify(content).length, reply.usage, cache);
  const simulated = !reply.usage && cache;
  // A cut-off answer used exactly max_tokens (unless the script says otherwise).
  const cutAt =
    stopReason === 'max_tokens' && reply.usage?.outputTokens === undefined ? view.maxTokens : undefined;
  const usage = cutAt === undefined ? counted : { ...counted, outputTokens: cutAt };
  const { serverToolUse, container } = serverToolAccounting(content, seed);
  return {
    id: `msg_offline_${id}`,
    type: 'message',
    role: 'assistant',
    model: view.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    stop_details: null,
    container,
    diagnostics: null,
    usage: {
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      cache_creation_input_tokens: usage.cacheWriteTokens,
      cache_read_input_tokens: usage.cacheReadTokens,
      cache_creation: simulated
        ? {
            ephemeral_5m_input_tokens: cache.write5mTokens,
            ephemeral_1h_input_tokens: cache.write1hTokens,
          }
        : null,
      inference_geo: null,
      output_tokens_details: null,
      server_tool_use: serverToolUse,
      service_tier: 'standard',
      speed: null,
    },
  };
}

function openAIBody(
  view: RequestView,
  reply: Extract<RenderableReply, { kind: 'text' | 'tool_use' | 'structured' }>,
  seed: string,
  cache: PromptCacheUsage | undefined,
) {
  const message: JsonObject = { role: 'assistant', content: null, refusal: null, annotations: [] };
  let finishReason = 'stop';
  if (reply.kind === 'text') {
    if (reply.stopReason === 'refusal') message.refusal = reply.text;
    else message.content = reply.text;
    finishReason = reply.stopReason === 'max_tokens' ? 'length' : 'stop';
  } else if (reply.kind === 'tool_use') {
    message.content = reply.text ?? null;
    message.tool_calls = [
      {
        id: reply.id ?? `call_offline_${shortHash(`${seed}:tool`, 20)}`,
        type: 'function',
        function: { name: reply.name, arguments: JSON.stringify(reply.input) },
      },
    ];
    finishReason = 'tool_calls';
  } else {
    message.content = JSON.stringify(reply.value);
  }
  const usage = usageFor(view, JSON.stringify(message).length, reply.usage, cache);
  const promptTokens = usage.inputTokens + usage.cacheReadTokens;
  return {
    id: `chatcmpl-offline-${shortHash(`${seed}:id`, 24)}`,
    object: 'chat.completion',
    created: 1_767_225_600,
    model: view.model,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: usage.outputTokens,
      total_tokens: promptTokens + usage.outputTokens,
      prompt_tokens_details: { cached_tokens: usage.cacheReadTokens, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    },
    system_fingerprint: 'offline',
  };
}

/** The error body each API sends, so the SDKs build their usual error classes. */
export function errorBody(protocol: Protocol, status: number, message: string): string {
  if (protocol === 'anthropic') {
    return JSON.stringify({
      type: 'error',
      error: { type: ANTHROPIC_ERROR_TYPES[status] ?? 'api_error', message },
    });
  }
  return JSON.stringify({
    error: {
      message,
      type: status >= 500 ? 'server_error' : 'invalid_request_error',
      param: null,
      code: null,
    },
  });
}

/**
 * Renders a reply in the request's protocol; `seed` makes ids stable for identical requests; `cache` is what
 * the prompt cache did for the request (OfflinePromptCache.usage), reported unless the reply scripts usage;
 * `issued` records the reasoning items a Responses answer hands out.
 */
export function renderReply(
  view: RequestView,
  reply: RenderableReply,
  seed: string,
  cache?: PromptCacheUsage,
  issued?: IssuedReasoning,
): WireResponse {
  switch (reply.kind) {
    case 'error': {
      const headers: Record<string, string> = { ...JSON_TYPE, ...reply.headers };
      if (reply.retryAfterSeconds !== undefined) headers['retry-after'] = String(reply.retryAfterSeconds);
      if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
      const message = reply.message ?? `Scripted ${reply.status} from the offline model server`;
      return { status: reply.status, headers, body: errorBody(view.protocol, reply.status, message) };
    }
    case 'malformed':
      return reply.variant === 'missing-fields'
        ? {
            status: 200,
            headers: { ...JSON_TYPE },
            body: JSON.stringify({ id: 'malformed', type: 'message' }),
          }
        : {
            status: 200,
            headers: { ...JSON_TYPE },
            body: '{"id": "msg_truncated", "content": [{"type": "te',
          };
    case 'raw': {
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      return { status: reply.status ?? 200, headers: { ...JSON_TYPE, ...reply.headers }, body };
    }
    case 'batch':
    case 'unprocessed': {
      const message = `Scripted reply "${reply.kind}" only applies to batch requests (offline model server)`;
      return { status: 500, headers: { ...JSON_TYPE }, body: errorBody(view.protocol, 500, message) };
    }
    default: {
      const body =
        view.protocol === 'anthropic'
          ? anthropicBody(view, reply, seed, cache)
          : view.responses
            ? responsesBody(view, reply, seed, reply.usage ?? cachedUsage(view, cache), issued)
            : openAIBody(view, reply, seed, cache);
      return { status: 200, headers: { ...JSON_TYPE }, body: JSON.stringify(body) };
    }
  }
}
