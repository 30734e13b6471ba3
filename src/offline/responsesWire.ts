/**
 * The OpenAI Responses API (`POST /v1/responses`, Azure `POST /openai/v1/responses`) on the offline model:
 * request parsing into a RequestView, the request rules it enforces on top of openaiRules.ts, and the
 * response body. Shapes follow node_modules/openai/src/resources/responses/responses.ts (`Response`,
 * `ResponseReasoningItem`, `ResponseFunctionToolCall`, `ResponseOutputMessage`, `ResponseUsage`).
 */
import { z } from 'zod';
import { isReasoningModelName } from '../shared/openaiModels.js';
import {
  chatCompletionsRejection,
  samplingRejection,
  strictSchemaProblem,
  type OpenAIRejection,
} from './openaiRules.js';
import { CHARS_PER_TOKEN, tokens } from './constants.js';
import { openAIFileCheck, openAIFileParts, withFiles } from './fileRules.js';
import { shortHash } from './prng.js';
import type { JsonObject, RequestView } from './requestView.js';
import type { RenderableReply, WireUsage } from './wire.js';

/** https://platform.openai.com/docs/api-reference/responses/create (max_output_tokens). */
export const MIN_OUTPUT_TOKENS = 16;

export const isResponsesPath = (path: string): boolean => /^(\/openai)?\/v1\/responses$/.test(path);

/** What the server handed out, to check what clients send back (reasoning items are stateless with store:false). */
export interface IssuedReasoning {
  /** Reasoning item id → its encrypted content. */
  readonly items: Map<string, string>;
  /** Function call id → the reasoning item that preceded it in the same output. */
  readonly callReasoning: Map<string, string>;
}

export const newIssuedReasoning = (): IssuedReasoning => ({ items: new Map(), callReasoning: new Map() });

const Json = z.record(z.string(), z.unknown());
const InputItem = z.looseObject({ type: z.string().optional(), role: z.string().optional() });
const ResponsesRequest = z.looseObject({
  model: z.string().min(1),
  instructions: z.string().nullish(),
  input: z.union([z.string(), z.array(InputItem)]),
  tools: z
    .array(
      z.looseObject({
        type: z.string(),
        name: z.string().optional(),
        parameters: Json.nullish(),
        strict: z.boolean().nullish(),
      }),
    )
    .nullish(),
  tool_choice: z
    .union([
      z.enum(['auto', 'none', 'required']),
      z.looseObject({ type: z.string(), name: z.string().optional() }),
    ])
    .nullish(),
  text: z
    .looseObject({
      format: z
        .looseObject({
          type: z.string(),
          name: z.string().optional(),
          schema: Json.optional(),
          strict: z.boolean().nullish(),
        })
        .nullish(),
    })
    .nullish(),
  max_output_tokens: z.number().int().nullish(),
  reasoning: z.looseObject({ effort: z.string().nullish() }).nullish(),
  include: z.array(z.string()).nullish(),
  store: z.boolean().nullish(),
});
type ResponsesRequest = z.infer<typeof ResponsesRequest>;

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const isRecord = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('\n');
}

/** Whether the model reasons on this request: a reasoning model, unless `reasoning.effort` is `none`. */
function reasons(body: ResponsesRequest): boolean {
  return isReasoningModelName(body.model) && body.reasoning?.effort !== 'none';
}

/** Validates a Responses request body (400 with the path) and returns the view the stand-in answers from. */
export function viewResponsesRequest(
  body: unknown,
): { ok: true; view: RequestView } | { ok: false; problem: string } {
  const parsed = ResponsesRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid request'}`,
    };
  }
  const request = parsed.data;
  const items =
    typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input;
  const system = [
    request.instructions ?? '',
    ...items.filter((i) => i.role === 'system' || i.role === 'developer').map((i) => contentText(i.content)),
  ]
    .filter((text) => text.length > 0)
    .join('\n');
  const last = items.filter((i) => i.role === 'user' || i.type === 'function_call_output').at(-1);
  const lastUserText =
    last?.type === 'function_call_output' ? contentText(last.output) : contentText(last?.content);
  const choice = request.tool_choice;
  const format = request.text?.format;
  const files = openAIFileCheck(openAIFileParts(items, 'input'));
  if (!files.ok) return { ok: false, problem: files.problem };
  const view: RequestView = {
    protocol: 'openai',
    model: request.model,
    system,
    lastUserText,
    hasToolResult: items.some((i) => i.type === 'function_call_output'),
    tools: (request.tools ?? []).flatMap((tool) =>
      tool.type === 'function' && tool.name ? [{ name: tool.name, inputSchema: tool.parameters ?? {} }] : [],
    ),
    toolChoice:
      !choice || choice === 'auto'
        ? 'auto'
        : choice === 'required'
          ? 'any'
          : choice === 'none'
            ? 'none'
            : { name: choice.name ?? '' },
    outputSchema: format?.type === 'json_schema' ? format.schema : undefined,
    promptChars: system.length + JSON.stringify(items).length + JSON.stringify(request.tools ?? []).length,
    responses: {
      reasoning: reasons(request),
      encryptedReasoning: (request.include ?? []).includes('reasoning.encrypted_content'),
      effort: request.reasoning?.effort ?? 'medium',
    },
  };
  return { ok: true, view: withFiles(view, files.files, CHARS_PER_TOKEN) };
}

/**
 * The Responses-specific rules, after the shared ones (reasoning-model sampling, strict schemas):
 * - `text.format` with `strict: true` and function tools, which are strict unless `strict: false`
 *   ("Functions are strict by default" in Responses: https://platform.openai.com/docs/guides/migrate-to-responses),
 *   follow the structured-outputs subset (openaiRules.ts).
 * - a `function_call_output` answers a `function_call` with the same `call_id` earlier in the input
 *   (https://platform.openai.com/docs/guides/function-calling#handling-function-calls; with `store: false`
 *   there is no stored response to find it in).
 * - with `store: false`, a function call the model made after reasoning comes back with that reasoning item
 *   before it, carrying the encrypted content the API issued
 *   (https://platform.openai.com/docs/guides/reasoning#keeping-reasoning-items-in-context,
 *   https://platform.openai.com/docs/guides/reasoning#encrypted-reasoning-items).
 */
export function responsesRejection(body: unknown, issued: IssuedReasoning): OpenAIRejection | undefined {
  const parsed = ResponsesRequest.safeParse(body);
  if (!parsed.success) return undefined;
  const request = parsed.data;
  const sampling = samplingRejection(body as JsonObject, 'max_output_tokens');
  if (sampling) return sampling;
  // `max_output_tokens` has a floor of 16 (API reference, Responses create; the SDK documents no minimum).
  const limit = request.max_output_tokens;
  if (typeof limit === 'number' && limit < MIN_OUTPUT_TOKENS) {
    return {
      message: `Invalid 'max_output_tokens': integer below minimum value. Expected a value >= ${MIN_OUTPUT_TOKENS}, but got ${limit} instead.`,
      param: 'max_output_tokens',
      code: 'integer_below_min_value',
    };
  }
  const format = request.text?.format;
  if (format?.type === 'json_schema' && format.strict === true) {
    const problem = strictSchemaProblem(format.schema);
    if (problem) {
      return {
        message: `Invalid schema for response_format '${format.name ?? ''}': ${problem}`,
        param: 'text.format.schema',
        code: 'invalid_json_schema',
      };
    }
  }
  for (const [index, tool] of (request.tools ?? []).entries()) {
    if (tool.type !== 'function' || tool.strict === false) continue;
    const problem = strictSchemaProblem(tool.parameters ?? {});
    if (problem) {
      return {
        message: `Invalid schema for function '${tool.name ?? ''}': ${problem}`,
        param: `tools[${index}].parameters`,
        code: 'invalid_function_parameters',
      };
    }
  }
  if (typeof request.input === 'string') return undefined;
  const calls = new Set<string>();
  const reasoningSeen = new Set<string>();
  for (const [index, input] of request.input.entries()) {
    if (input.type === 'reasoning') {
      const id = str(input.id);
      const encrypted = input.encrypted_content;
      if (request.store === false && (typeof encrypted !== 'string' || issued.items.get(id) !== encrypted)) {
        return {
          message: `Item '${id}' of type 'reasoning' was provided without encrypted content this API issued; with store: false it must be sent back as received (include 'reasoning.encrypted_content').`,
          param: `input[${index}]`,
          code: 'invalid_encrypted_content',
        };
      }
      reasoningSeen.add(id);
    } else if (input.type === 'function_call') {
      const callId = str(input.call_id);
      const reasoningId = issued.callReasoning.get(callId);
      if (request.store === false && reasoningId && !reasoningSeen.has(reasoningId)) {
        return {
          message: `Item '${callId}' of type 'function_call' was provided without its required 'reasoning' item: '${reasoningId}'.`,
          param: 'input',
          code: null,
        };
      }
      calls.add(callId);
    } else if (input.type === 'function_call_output') {
      const callId = str(input.call_id);
      if (!calls.has(callId)) {
        return {
          message: `No tool call found for function call output with call_id ${callId}.`,
          param: 'input',
          code: null,
        };
      }
    }
  }
  return undefined;
}

const REASONING_TOKENS: Readonly<Record<string, number>> = {
  minimal: 8,
  low: 32,
  medium: 96,
  high: 256,
  xhigh: 512,
};

/** A Responses API `Response` for a reply; records the reasoning items it issues in `issued`. */
export function responsesBody(
  view: RequestView,
  reply: Extract<RenderableReply, { kind: 'text' | 'tool_use' | 'structured' }>,
  seed: string,
  usageOverride: Partial<WireUsage> | undefined,
  issued: IssuedReasoning | undefined,
): JsonObject {
  const details = view.responses ?? { reasoning: false, encryptedReasoning: false, effort: 'medium' };
  const output: JsonObject[] = [];
  let reasoningId: string | undefined;
  let reasoningTokens = 0;
  if (details.reasoning) {
    reasoningId = `rs_offline_${shortHash(`${seed}:reasoning`, 24)}`;
    reasoningTokens = REASONING_TOKENS[details.effort] ?? 96;
    const encrypted = details.encryptedReasoning
      ? `enc_offline_${Buffer.from(`${reasoningId}:${shortHash(`${seed}:enc`, 32)}`).toString('base64')}`
      : null;
    if (encrypted) issued?.items.set(reasoningId, encrypted);
    output.push({ type: 'reasoning', id: reasoningId, summary: [], encrypted_content: encrypted });
  }
  const message = (content: JsonObject[]) => ({
    type: 'message',
    id: `msg_offline_${shortHash(`${seed}:msg`, 24)}`,
    role: 'assistant',
    status: 'completed',
    content,
  });
  const outputText = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] });
  let status = 'completed';
  let incomplete: JsonObject | null = null;
  if (reply.kind === 'text') {
    output.push(
      message([
        reply.stopReason === 'refusal' ? { type: 'refusal', refusal: reply.text } : outputText(reply.text),
      ]),
    );
    if (reply.stopReason === 'max_tokens') {
      status = 'incomplete';
      incomplete = { reason: 'max_output_tokens' };
    }
  } else if (reply.kind === 'tool_use') {
    if (reply.text) output.push(message([outputText(reply.text)]));
    const callId = reply.id ?? `call_offline_${shortHash(`${seed}:tool`, 20)}`;
    if (reasoningId && details.encryptedReasoning) issued?.callReasoning.set(callId, reasoningId);
    output.push({
      type: 'function_call',
      id: `fc_offline_${shortHash(`${seed}:fc`, 24)}`,
      call_id: callId,
      name: reply.name,
      arguments: JSON.stringify(reply.input),
      status: 'completed',
    });
  } else {
    output.push(message([outputText(JSON.stringify(reply.value))]));
  }
  const cached = usageOverride?.cacheReadTokens ?? 0;
  const input = (usageOverride?.inputTokens ?? tokens(view.promptChars)) + cached;
  const outputTokens =
    (usageOverride?.outputTokens ?? tokens(JSON.stringify(output).length)) + reasoningTokens;
  return {
    id: `resp_offline_${shortHash(`${seed}:id`, 24)}`,
    object: 'response',
    created_at: 1_767_225_600,
    status,
    error: null,
    incomplete_details: incomplete,
    model: view.model,
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    temperature: null,
    top_p: null,
    store: false,
    metadata: {},
    usage: {
      input_tokens: input,
      input_tokens_details: { cached_tokens: cached },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: reasoningTokens },
      total_tokens: input + outputTokens,
    },
  };
}

/** The rule an OpenAI request to `path` breaks (Chat Completions or Responses), or undefined. */
export function openAIRejection(
  path: string,
  body: unknown,
  issued: IssuedReasoning,
): OpenAIRejection | undefined {
  if (isResponsesPath(path)) return responsesRejection(body, issued);
  return /\/chat\/completions$/.test(path) ? chatCompletionsRejection(body) : undefined;
}
