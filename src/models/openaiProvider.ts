import type OpenAI from 'openai';
import type {
  ChatCompletionContentPart,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import { OFFLINE_HEADER } from '../offline/constants.js';
import type { ContentBlock, JsonSchema, ModelMessage, StopReason } from '../shared/modelTypes.js';
import { openAIUsage } from './cost.js';
import { InvalidOutputError, ModelResponseError } from './errors.js';
import type { ModelBatchLimits } from './providerBatch.js';
import { createOpenAIBatchApi } from './openaiBatches.js';
import { chatFilePart } from './openaiFiles.js';
import {
  carriesAnswer,
  parseJsonText,
  TOOL_ERROR_PREFIX,
  type ModelProvider,
  type ProviderRequest,
  type ProviderResponse,
} from './provider.js';
import { isReasoningDeployment, type OpenAIReasoningSettings } from './openaiReasoning.js';
import { buildResponsesParams, normalizeResponse, promptCacheKey } from './openaiResponses.js';
import { restoreOptionalProperties, toOpenAIStrictSchema } from './openaiSchema.js';
import type { Secret } from './secret.js';

const WireCompletion = z.object({
  id: z.string(),
  model: z.string(),
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullable(),
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string(),
                type: z.literal('function'),
                function: z.object({ name: z.string(), arguments: z.string() }),
              }),
            )
            .nullish(),
        }),
      }),
    )
    .min(1),
  usage: z.object({
    prompt_tokens: z.number().int().nonnegative(),
    completion_tokens: z.number().int().nonnegative(),
    prompt_tokens_details: z
      .object({
        cached_tokens: z.number().int().nonnegative().nullish(),
        cache_write_tokens: z.number().int().nonnegative().nullish(),
      })
      .nullish(),
  }),
});

const FINISH_REASONS: Readonly<Record<string, StopReason>> = {
  stop: 'end_turn',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  length: 'max_tokens',
  content_filter: 'content_filter',
};

/** OpenAI has no error flag on tool results; the model reads the marker instead. */
function toWireMessages(message: ModelMessage): ChatCompletionMessageParam[] {
  const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
  if (message.role === 'assistant') {
    const toolCalls = message.content.flatMap((block) =>
      block.type === 'tool_use'
        ? [
            {
              id: block.id,
              type: 'function' as const,
              function: { name: block.name, arguments: JSON.stringify(block.input) },
            },
          ]
        : [],
    );
    return [
      {
        role: 'assistant',
        content: text || null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
    ];
  }
  // Tool results must directly follow the assistant turn that asked for them, so they go before any text.
  const toolResults: ChatCompletionMessageParam[] = message.content.flatMap((block) =>
    block.type === 'tool_result'
      ? [
          {
            role: 'tool' as const,
            tool_call_id: block.toolUseId,
            content: (block.isError ? TOOL_ERROR_PREFIX : '') + block.content,
          },
        ]
      : [],
  );
  // Files of the turn, then those tool results carried (a `tool` message takes text only).
  const files = message.content.flatMap((block) =>
    block.type === 'file' ? [block] : block.type === 'tool_result' ? (block.files ?? []) : [],
  );
  if (files.length === 0) return text ? [...toolResults, { role: 'user', content: text }] : toolResults;
  const parts: ChatCompletionContentPart[] = [
    ...files.map(chatFilePart),
    ...(text ? [{ type: 'text' as const, text }] : []),
  ];
  return [...toolResults, { role: 'user', content: parts }];
}

function responseFormat(schema: JsonSchema): ChatCompletionCreateParamsNonStreaming['response_format'] {
  const sent = toOpenAIStrictSchema(schema);
  return { type: 'json_schema', json_schema: { name: 'output', schema: sent.schema, strict: sent.strict } };
}

export type OpenAIApiStyle = 'responses' | 'chat';

export interface OpenAIProviderOptions {
  readonly kind: 'azure-openai' | 'openai';
  readonly client: OpenAI;
  readonly offline: boolean;
  readonly secrets: readonly Secret[];
  /** Tests shrink the per-batch limits to see a step split into several batches. */
  readonly batchLimits?: ModelBatchLimits;
  /** `responses` (GPT on Azure OpenAI and OpenAI) or `chat` (Chat Completions, for compatible servers). */
  readonly api?: OpenAIApiStyle;
  /** Which deployments are reasoning models (no `temperature`), beyond the name guess; see openaiReasoning.ts. */
  readonly reasoning?: OpenAIReasoningSettings;
  /**
   * Send `prompt_cache_key` on Chat Completions (and its batch lines) too: on Azure OpenAI and OpenAI,
   * not on other OpenAI-compatible servers, which do not document it. Responses requests always carry it.
   */
  readonly chatPromptCacheKey?: boolean;
}

/**
 * GPT on Azure OpenAI v1 and OpenAI through the Responses API (openaiResponses.ts), and OpenAI-compatible
 * servers (vLLM, Ollama) through Chat Completions, which they all speak; batches use Chat Completions.
 */
export function createOpenAIProvider(options: OpenAIProviderOptions): ModelProvider {
  function buildParams(request: ProviderRequest): ChatCompletionCreateParamsNonStreaming {
    return {
      model: request.deployment,
      messages: [
        ...(request.system ? [{ role: 'system' as const, content: request.system }] : []),
        ...request.messages.flatMap(toWireMessages),
      ],
      max_completion_tokens: request.maxTokens,
      // Reasoning models refuse any temperature but the default, so it is not sent to them.
      ...(request.temperature === undefined || isReasoningDeployment(request.deployment, options.reasoning)
        ? {}
        : { temperature: request.temperature }),
      ...(request.reasoningEffort ? { reasoning_effort: request.reasoningEffort } : {}),
      ...(request.tools?.length
        ? {
            tools: request.tools.map((tool) => ({
              type: 'function' as const,
              function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
            })),
          }
        : {}),
      ...(request.outputSchema ? { response_format: responseFormat(request.outputSchema) } : {}),
      // Same key as on Responses: calls sharing deployment, system prompt and tools hit one cache
      // (ChatCompletionCreateParams.prompt_cache_key; https://platform.openai.com/docs/guides/prompt-caching).
      ...(options.chatPromptCacheKey ? { prompt_cache_key: promptCacheKey(request) } : {}),
    };
  }

  function normalize(raw: unknown, outputSchema: JsonSchema | undefined, offline: boolean): ProviderResponse {
    const parsed = WireCompletion.safeParse(raw);
    if (!parsed.success) {
      throw new ModelResponseError(
        `Chat Completions response is missing fields: ${parsed.error.issues[0]?.path.join('.') ?? ''}`,
      );
    }
    const wire = parsed.data;
    const choice = wire.choices[0] as (typeof wire.choices)[number];
    const content: ContentBlock[] = [];
    if (choice.message.content) content.push({ type: 'text', text: choice.message.content });
    if (choice.message.refusal) content.push({ type: 'text', text: choice.message.refusal });
    for (const call of choice.message.tool_calls ?? []) {
      const args = parseJsonText(call.function.arguments || '{}');
      if (!args.ok || typeof args.value !== 'object' || args.value === null || Array.isArray(args.value)) {
        throw new InvalidOutputError(
          `Tool call ${call.function.name} has arguments that are not a JSON object`,
        );
      }
      content.push({
        type: 'tool_use',
        id: call.id,
        name: call.function.name,
        input: args.value as Record<string, unknown>,
      });
    }
    const stopReason: StopReason = choice.message.refusal
      ? 'refusal'
      : (FINISH_REASONS[choice.finish_reason ?? ''] ?? 'other');
    let structured: { value: unknown } | undefined;
    if (outputSchema && carriesAnswer(stopReason)) {
      const json = parseJsonText(choice.message.content ?? '');
      if (!json.ok)
        throw new InvalidOutputError(
          `Structured answer is not JSON (stop reason ${stopReason}): ${json.problem}`,
        );
      // Optional properties were sent as required-but-nullable (openaiSchema.ts): their nulls go again.
      structured = { value: restoreOptionalProperties(outputSchema, json.value) };
    }
    return {
      message: { role: 'assistant', content: content.length > 0 ? content : [{ type: 'text', text: '' }] },
      stopReason,
      ...(structured ? { structured } : {}),
      usage: openAIUsage(
        wire.usage.prompt_tokens,
        wire.usage.completion_tokens,
        wire.usage.prompt_tokens_details,
      ),
      model: wire.model,
      offline,
    };
  }

  return {
    kind: options.kind,
    secrets: options.secrets,
    async call(request) {
      if (options.api === 'responses') {
        const { data, response } = await options.client.responses
          .create(buildResponsesParams(request, options.reasoning))
          .withResponse();
        return normalizeResponse(
          data,
          request,
          options.offline || response.headers.get(OFFLINE_HEADER) === 'true',
        );
      }
      const { data, response } = await options.client.chat.completions
        .create(buildParams(request))
        .withResponse();
      return normalize(
        data,
        request.outputSchema,
        options.offline || response.headers.get(OFFLINE_HEADER) === 'true',
      );
    },
    batches: createOpenAIBatchApi({
      kind: options.kind,
      client: options.client,
      buildParams,
      normalize: (raw, outputSchema) => normalize(raw, outputSchema, options.offline),
      ...(options.batchLimits ? { limits: options.batchLimits } : {}),
    }),
  };
}
