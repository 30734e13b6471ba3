import type Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  DocumentBlockParam,
  ImageBlockParam,
  MessageCreateParamsNonStreaming,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolUnion,
} from '@anthropic-ai/sdk/resources/messages';
import { z } from 'zod';
import { OFFLINE_HEADER } from '../offline/constants.js';
import type {
  ContentBlock,
  FileBlock,
  JsonSchema,
  ModelMessage,
  StopReason,
  ThinkingSetting,
} from '../shared/modelTypes.js';
import {
  SERVER_TOOL_FOR_WORKFLOW_TOOL,
  serverToolParam,
  serverToolUse,
  type ServerToolOffer,
} from './serverTools.js';
import { createAnthropicBatchApi, type AnthropicBatchClient } from './anthropicBatches.js';
import { claudeOutputSchema } from './claudeSchema.js';
import type { StructuredOutputMode } from '../config/models.js';
import { InvalidOutputError, ModelResponseError } from './errors.js';
import { placeCacheBreakpoints } from './promptCache.js';
import type { ModelBatchLimits } from './providerBatch.js';
import {
  carriesAnswer,
  parseJsonText,
  STRUCTURED_OUTPUT_TOOL,
  STRUCTURED_OUTPUT_TOOL_DESCRIPTION,
  type ModelProvider,
  type ProviderRequest,
  type ProviderResponse,
} from './provider.js';
import type { Secret } from './secret.js';

const WireMessage = z.object({
  id: z.string(),
  container: z.unknown().optional(),
  model: z.string(),
  role: z.literal('assistant'),
  content: z.array(z.looseObject({ type: z.string() })),
  stop_reason: z.string().nullable(),
  usage: z.object({
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
    cache_read_input_tokens: z.number().int().nonnegative().nullish(),
    server_tool_use: z.unknown().optional(),
  }),
});
const WireText = z.object({ type: z.literal('text'), text: z.string() });
const WireThinking = z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() });
const WireRedactedThinking = z.object({ type: z.literal('redacted_thinking'), data: z.string().min(1) });
const WireToolUse = z.object({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.record(z.string(), z.unknown()),
});

/**
 * Blocks of Claude's server tools (web search, web fetch, code execution, tool search): kept verbatim as
 * provider blocks and sent back unchanged, so a `pause_turn` continuation carries the `server_tool_use` it
 * paused in (https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons#pause-turn). The list
 * is ContentBlock in node_modules/@anthropic-ai/sdk/src/resources/messages/messages.ts, beside text,
 * thinking and tool_use.
 */
const SERVER_TOOL_BLOCKS = new Set([
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'tool_search_tool_result',
  'container_upload',
]);
const WireServerToolBlock = z.record(z.string(), z.json());

const STOP_REASONS: Readonly<Record<string, StopReason>> = {
  end_turn: 'end_turn',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  refusal: 'refusal',
  pause_turn: 'pause_turn',
  model_context_window_exceeded: 'context_window_exceeded',
};

/**
 * An image or PDF as Claude's `image` / `document` block with a base64 source (Base64ImageSource,
 * Base64PDFSource in the SDK types). Base64 is the one source every hosting takes: URL and Files API
 * sources are the Claude API's only ("On Amazon Bedrock and Google Cloud, only base64-encoded sources":
 * https://platform.claude.com/docs/en/build-with-claude/vision), and Foundry documents neither.
 */
export function claudeFileBlock(block: FileBlock): ImageBlockParam | DocumentBlockParam {
  if (block.data === undefined) {
    throw new Error(
      `File ${block.blobRef ?? '(no reference)'} reached the Claude provider without its bytes`,
    );
  }
  if (block.mediaType === 'application/pdf') {
    return {
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: block.data },
      ...(block.name ? { title: block.name } : {}),
    };
  }
  return { type: 'image', source: { type: 'base64', media_type: block.mediaType, data: block.data } };
}

function toWireMessage(message: ModelMessage): MessageParam {
  // The API rejects empty text blocks, which an empty assistant turn normalizes to.
  // OpenAI reasoning items (ReasoningBlock) mean nothing to Claude and are skipped.
  const nonEmpty = message.content.filter(
    (block): block is Exclude<ContentBlock, { type: 'reasoning' }> =>
      block.type !== 'reasoning' && (block.type !== 'text' || block.text.length > 0),
  );
  return {
    role: message.role,
    content: (nonEmpty.length > 0 ? nonEmpty : [{ type: 'text' as const, text: '(no content)' }]).map(
      (block) => {
        switch (block.type) {
          case 'text':
            return { type: 'text', text: block.text };
          case 'tool_use':
            return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
          case 'file':
            return claudeFileBlock(block);
          case 'tool_result':
            return {
              type: 'tool_result',
              tool_use_id: block.toolUseId,
              // Images go back inside the result (ToolResultBlockParam.content takes image blocks).
              content: block.files?.length
                ? [
                    ...(block.content ? [{ type: 'text' as const, text: block.content }] : []),
                    ...block.files.map(claudeFileBlock),
                  ]
                : block.content,
              is_error: block.isError,
            };
          // Returned exactly as received, in order (ThinkingBlockParam / RedactedThinkingBlockParam).
          case 'thinking':
            return { type: 'thinking', thinking: block.thinking, signature: block.signature };
          case 'redacted_thinking':
            return { type: 'redacted_thinking', data: block.data };
          // A server tool's block, exactly as Claude sent it (a copy: cache breakpoints are marked on it).
          case 'provider':
            return { ...block.block } as unknown as ContentBlockParam;
        }
      },
    ),
  };
}

/**
 * Models that think when `thinking` is omitted: Opus 5 (https://platform.claude.com/docs/en/models/opus-5/migration-guide),
 * and Opus 5.5 / Fable 5.x, where it is always on (https://platform.claude.com/docs/en/models/opus-5-5/whats-new-opus-5-5).
 * A Foundry deployment named otherwise is matched by its model id inside the name, if any.
 */
const THINKS_BY_DEFAULT = /claude-(opus-5|fable-5|mythos-5)/;

function claudeThinks(deployment: string, thinking: ThinkingSetting | undefined): boolean {
  return thinking === 'adaptive' || (thinking === undefined && THINKS_BY_DEFAULT.test(deployment));
}

/** `thinking: {type: 'adaptive'}` or `{type: 'disabled'}` (ThinkingConfigParam); omitted = the model's default. */
function thinkingParams(request: ProviderRequest): Pick<MessageCreateParamsNonStreaming, 'thinking'> {
  if (request.thinking === 'adaptive') return { thinking: { type: 'adaptive' } };
  if (request.thinking === 'off') return { thinking: { type: 'disabled' } };
  return {};
}

export interface AnthropicProviderOptions {
  readonly kind: 'foundry' | 'anthropic';
  /** Anthropic or AnthropicFoundry; only `messages.create` is used here. */
  readonly client: { readonly messages: Pick<Anthropic['messages'], 'create'> };
  /** `messages.batches` of a client that has it (the Claude API; Foundry has no batches). */
  readonly batchClient?: AnthropicBatchClient;
  readonly batchLimits?: ModelBatchLimits;
  readonly structuredOutput: StructuredOutputMode;
  /** True when the client points at the offline model server. */
  readonly offline: boolean;
  readonly secrets: readonly Secret[];
  /** Mark cache breakpoints (promptCache.ts); false with MODEL_PROMPT_CACHE=off. Default true. */
  readonly promptCache?: boolean;
  /** The Claude server tools a deployment offers (CLAUDE_SERVER_TOOLS_JSON, serverTools.ts); default none. */
  readonly serverTools?: (deployment: string) => ServerToolOffer;
}

/**
 * The request's tools with each workflow tool the deployment offers as a server tool (`web_search`,
 * `fetch_url`, `run_code`) replaced in place by Claude's server tool: Claude then runs it and answers with
 * `server_tool_use` and result blocks instead of a `tool_use` for the agent loop.
 */
function toolsFor(request: ProviderRequest, offer: ServerToolOffer): ToolUnion[] {
  return (request.tools ?? []).map((tool): ToolUnion => {
    const kind = SERVER_TOOL_FOR_WORKFLOW_TOOL[tool.name];
    const type = kind ? offer[kind] : undefined;
    if (type) return serverToolParam(type);
    return {
      name: tool.name,
      description: tool.description,
      input_schema: tool.inputSchema as Tool.InputSchema,
    };
  });
}

/**
 * Claude through the Messages API (direct or on Foundry). Cache breakpoints go on the tools, the system
 * prompt and the growing transcript (promptCache.ts). Structured output is either native `output_config.format`
 * or a forced `emit_output` tool call, which every Foundry hosting option supports.
 */
export function createAnthropicProvider(options: AnthropicProviderOptions): ModelProvider {
  const { client, kind } = options;

  // `temperature` is not sent: Messages API version 2026-10-21 (SDK 1.x) no longer has it.
  function buildParams(request: ProviderRequest): MessageCreateParamsNonStreaming {
    const useTool = request.outputSchema !== undefined && usesTool(request.deployment, request.thinking);
    if (useTool && request.tools?.some((tool) => tool.name === STRUCTURED_OUTPUT_TOOL)) {
      throw new Error(`Tool name "${STRUCTURED_OUTPUT_TOOL}" is reserved for structured output`);
    }
    const tools = toolsFor(request, options.serverTools?.(request.deployment) ?? {});
    // What Claude accepts of the step's schema; the answer is checked against the original in callModel.
    const outputSchema = request.outputSchema ? claudeOutputSchema(request.outputSchema) : undefined;
    if (useTool && outputSchema) {
      tools.push({
        name: STRUCTURED_OUTPUT_TOOL,
        description: STRUCTURED_OUTPUT_TOOL_DESCRIPTION,
        input_schema: outputSchema as Tool.InputSchema,
      });
    }
    const messages = request.messages.map(toWireMessage);
    const system: TextBlockParam[] = request.system ? [{ type: 'text', text: request.system }] : [];
    placeCacheBreakpoints(
      { model: request.deployment, tools, system, messages },
      options.promptCache ?? true,
    );
    return {
      model: request.deployment,
      max_tokens: request.maxTokens,
      messages,
      ...(system.length > 0 ? { system } : {}),
      ...(tools.length > 0 ? { tools } : {}),
      ...(useTool
        ? {
            tool_choice:
              tools.length === 1
                ? { type: 'tool', name: STRUCTURED_OUTPUT_TOOL, disable_parallel_tool_use: true }
                : { type: 'any', disable_parallel_tool_use: true },
          }
        : {}),
      ...thinkingParams(request),
      ...((outputSchema && !useTool) || request.effort
        ? {
            output_config: {
              ...(outputSchema && !useTool ? { format: { type: 'json_schema', schema: outputSchema } } : {}),
              ...(request.effort ? { effort: request.effort } : {}),
            },
          }
        : {}),
    };
  }

  // Forced tool use is rejected while the model thinks, so a thinking call gets native structured output.
  function usesTool(deployment: string, thinking: ThinkingSetting | undefined): boolean {
    return options.structuredOutput === 'tool' && !claudeThinks(deployment, thinking);
  }

  /** `toolMode`: whether the request forced emit_output (batch results: inferred from the answering model). */
  function normalize(
    raw: unknown,
    outputSchema: JsonSchema | undefined,
    offline: boolean,
    toolMode?: boolean,
    requestToolTypes: readonly string[] = [],
  ): ProviderResponse {
    const parsed = WireMessage.safeParse(raw);
    if (!parsed.success) {
      throw new ModelResponseError(
        `Messages API response is missing fields: ${parsed.error.issues[0]?.path.join('.') ?? ''}`,
      );
    }
    const wire = parsed.data;
    const viaTool = toolMode ?? usesTool(wire.model, undefined);
    const content: ContentBlock[] = [];
    let structured: { value: unknown } | undefined;
    for (const block of wire.content) {
      const text = WireText.safeParse(block);
      if (text.success) content.push({ type: 'text', text: text.data.text });
      // Thinking stays in the transcript: the API needs it back before the tool results of its turn.
      const thinking = WireThinking.safeParse(block);
      if (thinking.success) content.push(thinking.data);
      const redacted = WireRedactedThinking.safeParse(block);
      if (redacted.success) content.push(redacted.data);
      if (SERVER_TOOL_BLOCKS.has(block.type)) {
        const raw = WireServerToolBlock.safeParse(block);
        if (!raw.success) throw new ModelResponseError(`Messages API ${block.type} block is not JSON`);
        content.push({ type: 'provider', provider: 'anthropic', block: raw.data });
      }
      const toolUse = WireToolUse.safeParse(block);
      if (!toolUse.success) continue;
      if (toolUse.data.name === STRUCTURED_OUTPUT_TOOL) structured = { value: toolUse.data.input };
      else
        content.push({
          type: 'tool_use',
          id: toolUse.data.id,
          name: toolUse.data.name,
          input: toolUse.data.input,
        });
    }
    let stopReason = STOP_REASONS[wire.stop_reason ?? ''] ?? 'other';
    if (structured) {
      // The emit_output call is the answer, not a tool turn: keep it in the transcript as JSON text.
      content.splice(0, content.length, { type: 'text', text: JSON.stringify(structured.value) });
      stopReason = 'end_turn';
    } else if (outputSchema && !viaTool && carriesAnswer(stopReason)) {
      const text = content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
      const json = parseJsonText(text);
      if (!json.ok)
        throw new InvalidOutputError(
          `Structured answer is not JSON (stop reason ${stopReason}): ${json.problem}`,
        );
      structured = { value: json.value };
    } else if (outputSchema && viaTool && carriesAnswer(stopReason)) {
      throw new InvalidOutputError(
        `The model did not call ${STRUCTURED_OUTPUT_TOOL} (stop reason ${stopReason})`,
      );
    }
    const serverTools = serverToolUse(wire, requestToolTypes);
    return {
      message: { role: 'assistant', content: content.length > 0 ? content : [{ type: 'text', text: '' }] },
      stopReason,
      ...(structured ? { structured } : {}),
      ...(serverTools ? { serverTools } : {}),
      usage: {
        inputTokens: wire.usage.input_tokens,
        outputTokens: wire.usage.output_tokens,
        cacheWriteTokens: wire.usage.cache_creation_input_tokens ?? 0,
        cacheReadTokens: wire.usage.cache_read_input_tokens ?? 0,
      },
      model: wire.model,
      offline,
    };
  }

  return {
    kind,
    secrets: options.secrets,
    async call(request) {
      const params = buildParams(request);
      const { data, response } = await client.messages.create(params).withResponse();
      return normalize(
        data,
        request.outputSchema,
        options.offline || response.headers.get(OFFLINE_HEADER) === 'true',
        usesTool(request.deployment, request.thinking),
        (params.tools ?? []).flatMap((tool) => ('type' in tool && tool.type ? [tool.type] : [])),
      );
    },
    ...(options.batchClient
      ? {
          batches: createAnthropicBatchApi({
            client: options.batchClient,
            buildParams,
            normalize: (raw, outputSchema) => normalize(raw, outputSchema, options.offline),
            ...(options.batchLimits ? { limits: options.batchLimits } : {}),
          }),
        }
      : {}),
  };
}
