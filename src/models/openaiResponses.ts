import { createHash } from 'node:crypto';
import type {
  FunctionTool,
  ResponseCreateParamsNonStreaming,
  ResponseInputItem,
} from 'openai/resources/responses/responses';
import { z } from 'zod';
import type { ContentBlock, ModelMessage, StopReason } from '../shared/modelTypes.js';
import { InvalidOutputError, ModelResponseError } from './errors.js';
import { responsesFilePart } from './openaiFiles.js';
import { isReasoningDeployment, type OpenAIReasoningSettings } from './openaiReasoning.js';
import { restoreOptionalProperties, toOpenAIStrictSchema } from './openaiSchema.js';
import {
  carriesAnswer,
  parseJsonText,
  TOOL_ERROR_PREFIX,
  type ProviderRequest,
  type ProviderResponse,
} from './provider.js';

/**
 * GPT through the Responses API (`POST /v1/responses`, Azure `POST /openai/v1/responses`):
 * https://platform.openai.com/docs/api-reference/responses/create,
 * https://learn.microsoft.com/azure/ai-foundry/openai/how-to/responses. Stateless: `store: false`, so each
 * turn sends the whole transcript as input items, with the reasoning items of earlier turns kept encrypted
 * (`include: ['reasoning.encrypted_content']`) and sent back, as reasoning models need across tool calls
 * (https://platform.openai.com/docs/guides/reasoning#keeping-reasoning-items-in-context).
 */

function inputItems(message: ModelMessage): ResponseInputItem[] {
  if (message.role === 'assistant') {
    return message.content.flatMap((block): ResponseInputItem[] => {
      switch (block.type) {
        case 'reasoning':
          return [
            {
              type: 'reasoning',
              id: block.id,
              encrypted_content: block.encryptedContent,
              summary: (block.summary ?? []).map((text) => ({ type: 'summary_text' as const, text })),
            },
          ];
        case 'text':
          return block.text ? [{ role: 'assistant', content: block.text }] : [];
        case 'tool_use':
          return [
            {
              type: 'function_call',
              call_id: block.id,
              name: block.name,
              arguments: JSON.stringify(block.input),
            },
          ];
        case 'tool_result':
        case 'file':
        case 'thinking':
        case 'redacted_thinking':
        case 'provider':
          // Claude's thinking and server-tool blocks belong to Claude; a GPT fallback gets the turn without them.
          return [];
      }
    });
  }
  // Function outputs answer the calls of the turn before, so they come before any new text.
  const outputs: ResponseInputItem[] = message.content.flatMap((block) => {
    if (block.type !== 'tool_result') return [];
    const text = (block.isError ? TOOL_ERROR_PREFIX : '') + block.content;
    // A function call's output may carry images and files (ResponseFunctionCallOutputItemList).
    const output = block.files?.length
      ? [{ type: 'input_text' as const, text }, ...block.files.map(responsesFilePart)]
      : text;
    return [{ type: 'function_call_output' as const, call_id: block.toolUseId, output }];
  });
  const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
  const files = message.content.flatMap((block) => (block.type === 'file' ? [block] : []));
  if (files.length === 0) return text ? [...outputs, { role: 'user', content: text }] : outputs;
  return [
    ...outputs,
    {
      role: 'user',
      content: [...files.map(responsesFilePart), ...(text ? [{ type: 'input_text' as const, text }] : [])],
    },
  ];
}

/**
 * A stable `prompt_cache_key` for requests sharing a prefix (deployment, instructions, tools), so OpenAI
 * routes them to the same cache: https://platform.openai.com/docs/guides/prompt-caching.
 */
export function promptCacheKey(request: ProviderRequest): string {
  const prefix = JSON.stringify([request.deployment, request.system ?? '', request.tools ?? []]);
  return `da-${createHash('sha256').update(prefix).digest('hex').slice(0, 32)}`;
}

export function buildResponsesParams(
  request: ProviderRequest,
  reasoning: OpenAIReasoningSettings | undefined,
): ResponseCreateParamsNonStreaming {
  const reasons = isReasoningDeployment(request.deployment, reasoning);
  const format = request.outputSchema ? toOpenAIStrictSchema(request.outputSchema) : undefined;
  const tools: FunctionTool[] | undefined = request.tools?.map((tool) => {
    const sent = toOpenAIStrictSchema(tool.inputSchema);
    // Responses function tools are strict unless told otherwise, so non-strict ones say so.
    return {
      type: 'function',
      name: tool.name,
      description: tool.description,
      parameters: sent.schema,
      strict: sent.strict,
    };
  });
  return {
    model: request.deployment,
    ...(request.system ? { instructions: request.system } : {}),
    input: request.messages.flatMap(inputItems),
    // The Responses API refuses a limit under 16 tokens (API reference, `max_output_tokens`).
    max_output_tokens: Math.max(16, request.maxTokens),
    store: false,
    prompt_cache_key: promptCacheKey(request),
    ...(reasons ? { include: ['reasoning.encrypted_content' as const] } : {}),
    ...(request.reasoningEffort ? { reasoning: { effort: request.reasoningEffort } } : {}),
    ...(request.temperature === undefined || reasons ? {} : { temperature: request.temperature }),
    ...(tools?.length ? { tools } : {}),
    ...(format
      ? {
          text: {
            format: { type: 'json_schema', name: 'output', schema: format.schema, strict: format.strict },
          },
        }
      : {}),
  };
}

const WireResponse = z.object({
  model: z.string(),
  status: z.string().nullish(),
  incomplete_details: z.object({ reason: z.string().nullish() }).nullish(),
  output: z.array(z.looseObject({ type: z.string() })),
  usage: z.object({
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    input_tokens_details: z
      .object({
        cached_tokens: z.number().int().nonnegative().nullish(),
        cache_write_tokens: z.number().int().nonnegative().nullish(),
      })
      .nullish(),
  }),
});
const ReasoningItem = z.object({
  id: z.string(),
  encrypted_content: z.string().nullish(),
  summary: z.array(z.object({ text: z.string() })).nullish(),
});
const MessageItem = z.object({
  content: z.array(
    z.union([
      z.object({ type: z.literal('output_text'), text: z.string() }),
      z.object({ type: z.literal('refusal'), refusal: z.string() }),
    ]),
  ),
});
const FunctionCallItem = z.object({ call_id: z.string(), name: z.string(), arguments: z.string() });

function item<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ModelResponseError(
      `Responses ${what} item is missing fields: ${parsed.error.issues[0]?.path.join('.') ?? ''}`,
    );
  }
  return parsed.data;
}

/** A Responses API answer in the provider-neutral shape; tool inputs and answers lose strict-mode nulls. */
export function normalizeResponse(
  raw: unknown,
  request: Pick<ProviderRequest, 'outputSchema' | 'tools'>,
  offline: boolean,
): ProviderResponse {
  const parsed = WireResponse.safeParse(raw);
  if (!parsed.success) {
    throw new ModelResponseError(
      `Responses answer is missing fields: ${parsed.error.issues[0]?.path.join('.') ?? ''}`,
    );
  }
  const wire = parsed.data;
  const content: ContentBlock[] = [];
  let text = '';
  let refused = false;
  for (const output of wire.output) {
    if (output.type === 'reasoning') {
      const reasoning = item(ReasoningItem, output, 'reasoning');
      // Without encrypted content (a model that did not reason) there is nothing to send back.
      if (!reasoning.encrypted_content) continue;
      const summary = (reasoning.summary ?? []).map((part) => part.text);
      content.push({
        type: 'reasoning',
        id: reasoning.id,
        encryptedContent: reasoning.encrypted_content,
        ...(summary.length > 0 ? { summary } : {}),
      });
    } else if (output.type === 'message') {
      for (const part of item(MessageItem, output, 'message').content) {
        const partText = part.type === 'output_text' ? part.text : part.refusal;
        refused ||= part.type === 'refusal';
        text += partText;
        content.push({ type: 'text', text: partText });
      }
    } else if (output.type === 'function_call') {
      const call = item(FunctionCallItem, output, 'function_call');
      const args = parseJsonText(call.arguments || '{}');
      if (!args.ok || typeof args.value !== 'object' || args.value === null || Array.isArray(args.value)) {
        throw new InvalidOutputError(`Tool call ${call.name} has arguments that are not a JSON object`);
      }
      const schema = request.tools?.find((tool) => tool.name === call.name)?.inputSchema;
      const input = (schema ? restoreOptionalProperties(schema, args.value) : args.value) as Record<
        string,
        unknown
      >;
      content.push({ type: 'tool_use', id: call.call_id, name: call.name, input });
    }
  }
  const calledTool = content.some((block) => block.type === 'tool_use');
  const incomplete = wire.status === 'incomplete' ? wire.incomplete_details?.reason : undefined;
  const stopReason: StopReason = refused
    ? 'refusal'
    : incomplete === 'max_output_tokens'
      ? 'max_tokens'
      : incomplete === 'content_filter'
        ? 'content_filter'
        : incomplete
          ? 'other'
          : calledTool
            ? 'tool_use'
            : 'end_turn';
  let structured: { value: unknown } | undefined;
  if (request.outputSchema && carriesAnswer(stopReason)) {
    const json = parseJsonText(text);
    if (!json.ok) {
      throw new InvalidOutputError(
        `Structured answer is not JSON (stop reason ${stopReason}): ${json.problem}`,
      );
    }
    structured = { value: restoreOptionalProperties(request.outputSchema, json.value) };
  }
  const cached = wire.usage.input_tokens_details?.cached_tokens ?? 0;
  const cacheWrite = wire.usage.input_tokens_details?.cache_write_tokens ?? 0;
  return {
    message: {
      role: 'assistant',
      content: content.length > 0 ? content : [{ type: 'text', text: '' }],
    },
    stopReason,
    ...(structured ? { structured } : {}),
    // input_tokens counts the cached ones; output_tokens includes reasoning tokens (billed as output).
    usage: {
      inputTokens: Math.max(0, wire.usage.input_tokens - cached - cacheWrite),
      outputTokens: wire.usage.output_tokens,
      cacheWriteTokens: cacheWrite,
      cacheReadTokens: cached,
    },
    model: wire.model,
    offline,
  };
}
