/**
 * Request rules the OpenAI APIs (OpenAI and Azure OpenAI v1) enforce, applied by the offline model before any
 * script decides, so a test cannot pass with a request the real endpoint would answer with 400. Each rule
 * cites its source; the table in src/offline/README.md lists them. The error text follows the real API's
 * wording where it is documented or widely reported; the body shape is OpenAI's
 * `{ error: { message, type, param, code } }` (node_modules/openai/src/core/error.ts reads these fields).
 */
import {
  isReasoningModelName,
  STRICT_LIMITS,
  STRICT_ROOT_KEYWORDS as ROOT_KEYWORDS,
  STRICT_SCHEMA_KEYWORDS as STRICT_KEYWORDS,
  STRICT_STRING_FORMATS,
} from '../shared/openaiModels.js';

export interface OpenAIRejection {
  readonly message: string;
  readonly param: string | null;
  readonly code: string | null;
}

/** OpenAI's 400 body for a rejected request. */
export function openAIRejectionBody(rejection: OpenAIRejection): string {
  return JSON.stringify({
    error: {
      message: rejection.message,
      type: 'invalid_request_error',
      param: rejection.param,
      code: rejection.code,
    },
  });
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why a strict Structured Outputs / strict function schema is rejected, or undefined when it is accepted. */
export function strictSchemaProblem(schema: unknown): string | undefined {
  if (!isRecord(schema)) return 'schema must be a JSON Schema object';
  if (schema.type !== 'object' || schema.anyOf !== undefined) {
    // "The root level object must be an object, and not use anyOf", same guide.
    return `schema must be a JSON Schema of 'type: "object"', got 'type: "${String(schema.type)}"'${schema.anyOf === undefined ? '' : ' with anyOf'}.`;
  }
  const totals = { properties: 0, enumValues: 0, chars: 0 };
  const walk = (node: unknown, context: readonly string[], depth: number): string | undefined => {
    const where = `In context=(${context.map((part) => `'${part}'`).join(', ')})`;
    if (!isRecord(node)) return `${where}, schema must be a JSON Schema object.`;
    for (const key of Object.keys(node)) {
      if (!STRICT_KEYWORDS.has(key) && !(context.length === 0 && ROOT_KEYWORDS.has(key))) {
        return `${where}, '${key}' is not permitted.`;
      }
    }
    if (typeof node.format === 'string' && !STRICT_STRING_FORMATS.has(node.format)) {
      return `${where}, '${node.format}' is not a valid format.`;
    }
    if (Array.isArray(node.enum)) {
      totals.enumValues += node.enum.length;
      totals.chars += node.enum.reduce<number>((sum, v) => sum + (typeof v === 'string' ? v.length : 0), 0);
    }
    const types = Array.isArray(node.type) ? node.type : [node.type];
    const isObject = types.includes('object') || node.properties !== undefined;
    if (isObject) {
      if (depth > STRICT_LIMITS.maxNesting) {
        return `${where}, object nesting is deeper than ${STRICT_LIMITS.maxNesting} levels.`;
      }
      if (node.additionalProperties !== false) {
        return `${where}, 'additionalProperties' is required to be supplied and to be false.`;
      }
      const properties = isRecord(node.properties) ? node.properties : {};
      const required = new Set(Array.isArray(node.required) ? node.required : []);
      const missing = Object.keys(properties).filter((name) => !required.has(name));
      if (missing.length > 0 || !Array.isArray(node.required)) {
        return `${where}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0] ?? ''}'.`;
      }
      totals.properties += Object.keys(properties).length;
      for (const [name, child] of Object.entries(properties)) {
        totals.chars += name.length;
        const problem = walk(child, [...context, 'properties', name], depth + 1);
        if (problem) return problem;
      }
    }
    if (types.includes('array') && node.items === undefined) {
      return `${where}, array schema missing items.`;
    }
    if (node.items !== undefined) {
      const problem = walk(node.items, [...context, 'items'], depth);
      if (problem) return problem;
    }
    if (node.anyOf !== undefined) {
      if (!Array.isArray(node.anyOf)) return `${where}, 'anyOf' must be an array.`;
      for (const [index, child] of node.anyOf.entries()) {
        const problem = walk(child, [...context, 'anyOf', String(index)], depth);
        if (problem) return problem;
      }
    }
    for (const key of ['$defs', 'definitions'] as const) {
      const defs = node[key];
      if (!isRecord(defs)) continue;
      for (const [name, child] of Object.entries(defs)) {
        totals.chars += name.length;
        const problem = walk(child, [...context, key, name], depth);
        if (problem) return problem;
      }
    }
    return undefined;
  };
  const problem = walk(schema, [], 1);
  if (problem) return problem;
  if (totals.properties > STRICT_LIMITS.maxProperties) {
    return `schema has ${totals.properties} object properties; at most ${STRICT_LIMITS.maxProperties} are allowed.`;
  }
  if (totals.enumValues > STRICT_LIMITS.maxEnumValues) {
    return `schema has ${totals.enumValues} enum values; at most ${STRICT_LIMITS.maxEnumValues} are allowed.`;
  }
  if (totals.chars > STRICT_LIMITS.maxStringChars) {
    return `schema property names and enum values total ${totals.chars} characters; at most ${STRICT_LIMITS.maxStringChars} are allowed.`;
  }
  return undefined;
}

/**
 * Reasoning models (src/shared/openaiModels.ts, judged by name as the offline model sees only that) refuse
 * `max_tokens` and non-default `temperature`/`top_p`:
 * https://learn.microsoft.com/azure/ai-foundry/openai/how-to/reasoning#not-supported.
 */
export function samplingRejection(body: Json, tokenParam: 'max_completion_tokens' | 'max_output_tokens') {
  const model = typeof body.model === 'string' ? body.model : '';
  if (!isReasoningModelName(model)) return undefined;
  if (body.max_tokens !== undefined) {
    return {
      message: `Unsupported parameter: 'max_tokens' is not supported with this model. Use '${tokenParam}' instead.`,
      param: 'max_tokens',
      code: 'unsupported_parameter',
    };
  }
  for (const param of ['temperature', 'top_p'] as const) {
    const value = body[param];
    if (value !== undefined && value !== null && value !== 1) {
      return {
        message: `Unsupported value: '${param}' does not support ${JSON.stringify(value)} with this model. Only the default (1) value is supported.`,
        param,
        code: 'unsupported_value',
      };
    }
  }
  return undefined;
}

/** Strict schemas: a strict `response_format`/`text.format` and every strict function tool. */
function schemaRejection(
  label: string,
  name: unknown,
  schema: unknown,
  param: string,
  code: string | null,
): OpenAIRejection | undefined {
  const problem = strictSchemaProblem(schema);
  return problem
    ? { message: `Invalid schema for ${label} '${String(name)}': ${problem}`, param, code }
    : undefined;
}

/**
 * Tool-message order in Chat Completions (https://platform.openai.com/docs/guides/function-calling, "Handling
 * function calls"; the API answers "messages with role 'tool' must be a response to a preceeding message with
 * 'tool_calls'"): a `tool` message answers a `tool_calls` id of the nearest assistant message before it, and
 * every such id is answered before the next non-tool message.
 */
function toolOrderRejection(messages: readonly unknown[]): OpenAIRejection | undefined {
  let pending: { index: number; ids: Set<string> } | undefined;
  const unanswered = (): OpenAIRejection | undefined =>
    pending && pending.ids.size > 0
      ? {
          message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending.ids].join(', ')}`,
          param: `messages.[${pending.index}].role`,
          code: null,
        }
      : undefined;
  for (const [index, raw] of messages.entries()) {
    const message = isRecord(raw) ? raw : {};
    if (message.role === 'tool') {
      const id = typeof message.tool_call_id === 'string' ? message.tool_call_id : '';
      if (!pending || !pending.ids.has(id)) {
        return {
          message:
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          param: `messages.[${index}].role`,
          code: null,
        };
      }
      pending.ids.delete(id);
      continue;
    }
    const problem = unanswered();
    if (problem) return problem;
    pending = undefined;
    if (message.role === 'assistant' && Array.isArray(message.tool_calls)) {
      const ids = message.tool_calls.flatMap((call) =>
        isRecord(call) && typeof call.id === 'string' ? [call.id] : [],
      );
      pending = { index, ids: new Set(ids) };
    }
  }
  return unanswered();
}

/** The first rule a Chat Completions body breaks, or undefined (shape errors are left to requestView.ts). */
export function chatCompletionsRejection(body: unknown): OpenAIRejection | undefined {
  if (!isRecord(body)) return undefined;
  const sampling = samplingRejection(body, 'max_completion_tokens');
  if (sampling) return sampling;
  const format = isRecord(body.response_format) ? body.response_format : undefined;
  const jsonSchema = isRecord(format?.json_schema) ? format.json_schema : undefined;
  if (format?.type === 'json_schema' && jsonSchema?.strict === true) {
    const rejection = schemaRejection(
      'response_format',
      jsonSchema.name,
      jsonSchema.schema,
      'response_format',
      null,
    );
    if (rejection) return rejection;
  }
  for (const [index, tool] of (Array.isArray(body.tools) ? body.tools : []).entries()) {
    const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
    if (fn?.strict !== true) continue;
    const rejection = schemaRejection(
      'function',
      fn.name,
      fn.parameters ?? {},
      `tools[${index}].function.parameters`,
      'invalid_function_parameters',
    );
    if (rejection) return rejection;
  }
  return Array.isArray(body.messages) ? toolOrderRejection(body.messages) : undefined;
}
