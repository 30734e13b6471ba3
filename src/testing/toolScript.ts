/**
 * Scripted tools: the harness answers a tool's activity (`tool_<name>`, src/shared/names.ts) instead of
 * the tool, through devhost's durable invocation interceptor. The orchestrators schedule the same activity
 * and get the same `ToolCallResult` shape back (checked here with the app's own zod schema), so the agent
 * loop, the ledger and the history are those of a real run. Tools without a script run for real.
 */
import { ToolCallInput, ToolCallResult, type ToolFailureKind } from '../shared/toolTypes.js';

/** What the model is told when a scripted tool fails (an `isError` result, not a thrown error). */
export interface ToolErrorAnswer {
  readonly kind: 'tool-error';
  readonly message: string;
  readonly errorKind: ToolFailureKind;
  readonly retryable: boolean;
}

/** A tool call as the script sees it. */
export interface ToolCall {
  readonly tool: string;
  readonly runId: string;
  readonly stepId: string;
  readonly toolUseId: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/**
 * A tool's script: a fixed answer, or a function of the call. A string answer is the content the model
 * reads; any other value is sent as JSON and kept as the result's `data`. `toolError(...)` answers with a
 * tool failure the model sees; throwing fails the activity itself (an infrastructure fault, which the
 * orchestrator retries like any failed activity).
 */
export type ToolScript =
  | ((call: ToolCall) => unknown)
  | string
  | number
  | boolean
  | null
  | ToolErrorAnswer
  | readonly unknown[]
  | { readonly [key: string]: unknown };

/** A tool failure the model sees (`isError: true`), e.g. `toolError('no such ticket', 'invalid_arguments')`. */
export function toolError(
  message: string,
  errorKind: ToolFailureKind = 'upstream_error',
  retryable = false,
): ToolErrorAnswer {
  return { kind: 'tool-error', message, errorKind, retryable };
}

function isToolError(value: unknown): value is ToolErrorAnswer {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'tool-error';
}

/** One scripted tool call, for assertions. */
export interface RecordedToolCall extends ToolCall {
  /** The result the activity returned, or the error it threw. */
  readonly result?: ToolCallResult;
  readonly thrown?: string;
}

/** Runs a tool call's script and returns the activity result (or throws, failing the activity). */
export async function answerToolCall(
  tool: string,
  script: ToolScript,
  rawInput: unknown,
  record: (call: RecordedToolCall) => void,
): Promise<ToolCallResult> {
  const parsed = ToolCallInput.safeParse(rawInput);
  if (!parsed.success) {
    throw new Error(`scripted tool ${tool}: the activity input is not a tool call: ${parsed.error.message}`);
  }
  const input = parsed.data;
  const call: ToolCall = {
    tool,
    runId: input.runId,
    stepId: input.stepId,
    toolUseId: input.toolUseId,
    arguments: input.arguments,
  };
  const started = performance.now();
  let answer: unknown;
  try {
    answer = typeof script === 'function' ? await script(call) : script;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    record({ ...call, thrown: message });
    throw error instanceof Error ? error : new Error(message);
  }
  const common = {
    toolUseId: input.toolUseId,
    name: tool,
    durationMs: Math.round(performance.now() - started),
  };
  const result = ToolCallResult.parse(
    isToolError(answer)
      ? {
          ...common,
          isError: true,
          content: answer.message,
          errorKind: answer.errorKind,
          retryable: answer.retryable,
        }
      : {
          ...common,
          isError: false,
          content: typeof answer === 'string' ? answer : (JSON.stringify(answer) ?? 'null'),
          ...(typeof answer === 'string' || answer === undefined ? {} : { data: answer }),
        },
  );
  record({ ...call, result });
  return result;
}
