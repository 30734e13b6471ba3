/**
 * The offline model's context-window check: a request whose estimated input does not fit the
 * model's window gets the 400 the real API sends. The estimate is the one usage uses
 * (`promptTokens`, chars / 4), so it is deterministic; the windows come from src/models/modelLimits.ts.
 * A model not in that table is not checked.
 */
import { findModelLimits } from '../models/modelLimits.js';
import type { JsonObject, RequestView } from './requestView.js';
import { errorBody, promptTokens, type WireResponse } from './wire.js';

function requestedOutput(body: unknown): number {
  const fields = (body ?? {}) as JsonObject;
  const value = fields.max_tokens ?? fields.max_completion_tokens;
  return typeof value === 'number' ? value : 0;
}

/** Why the real endpoint would refuse this request for its size, or undefined when it fits. */
export function contextWindowProblem(view: RequestView, body: unknown): { message: string } | undefined {
  const window = findModelLimits(view.model)?.contextWindow;
  if (window === undefined) return undefined;
  const input = promptTokens(view);
  if (view.protocol === 'anthropic') {
    // Claude API: input over the window, then input + max_tokens over it (both 400
    // invalid_request_error). https://platform.claude.com/docs/en/build-with-claude/context-windows
    // ("returns a validation error when prompt and output tokens exceed the context window");
    // bodies as seen in https://github.com/boldsoftware/exe.dev/issues/62 and
    // https://github.com/docker/docker-agent/issues/569.
    if (input > window) return { message: `prompt is too long: ${input} tokens > ${window} maximum` };
    const output = requestedOutput(body);
    if (input + output > window) {
      return {
        message:
          `input length and \`max_tokens\` exceed context limit: ${input} + ${output} > ${window}, ` +
          'decrease input length or `max_tokens` and try again',
      };
    }
    return undefined;
  }
  // OpenAI and Azure OpenAI: 400 invalid_request_error, code context_length_exceeded, param messages
  // (https://platform.openai.com/docs/guides/error-codes; body as seen in
  // https://github.com/crewAIInc/crewAI-examples/issues/121).
  if (input <= window) return undefined;
  return {
    message:
      `This model's maximum context length is ${window} tokens. However, your messages resulted in ` +
      `${input} tokens. Please reduce the length of the messages.`,
  };
}

/** The 400 for a request that does not fit, in the request's protocol, or undefined when it fits. */
export function contextWindowError(view: RequestView, body: unknown): WireResponse | undefined {
  const problem = contextWindowProblem(view, body);
  if (!problem) return undefined;
  const wire = JSON.parse(errorBody(view.protocol, 400, problem.message)) as JsonObject;
  if (view.protocol === 'openai') {
    wire.error = { ...(wire.error as JsonObject), param: 'messages', code: 'context_length_exceeded' };
  }
  return { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify(wire) };
}
