/**
 * `defineTool`: a tool written in TypeScript. Put the module in `src/tools/custom/` and export the result
 * (default or named); the app registers every tool found there when it starts (customTools.ts). Each call
 * is one activity, `tool_<name>`, with the same retries, output cap and ledger entry as the built-ins.
 *
 * ```ts
 * export default defineTool({
 *   name: 'order_status',
 *   description: 'The delivery status of one order.',
 *   input: z.object({ orderId: z.string().describe('The order number, e.g. "A-1234".') }),
 *   async handler({ orderId }, { signal }) {
 *     const order = await orders.get(orderId, { signal });
 *     return { content: `Order ${orderId}: ${order.status}`, data: order };
 *   },
 * });
 * ```
 */
import { z } from 'zod';
import { redactSecrets } from '../models/secret.js';
import type { ToolCallResult, ToolFailureKind, ToolLimits } from '../shared/toolTypes.js';
import type { Tool } from './registry.js';
import { clampLimit, parseToolCall, truncateUtf8 } from './web/toolOutput.js';

/** What a handler gets besides its arguments. */
export interface ToolContext {
  readonly runId: string;
  readonly stepId: string;
  /** The model's id for this call: stable across the activity's retries, so it can key idempotent writes. */
  readonly toolUseId: string;
  /** Aborted when the call's time limit passes; pass it on to fetch and SDK calls. */
  readonly signal: AbortSignal;
  /** The step's `toolLimits`. */
  readonly limits: ToolLimits;
}

/** A handler's answer: text for the model, and optionally machine-readable data for the run's history. */
export interface ToolReply {
  readonly content: string;
  readonly data?: unknown;
}

/** Throw this for a failure the model should see and may act on (a missing record, a refused change). */
export class ToolError extends Error {
  readonly kind: ToolFailureKind;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: { kind?: ToolFailureKind; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.kind = options.kind ?? 'upstream_error';
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export interface ToolDefinitionOptions<Input extends z.ZodObject> {
  /** 1-64 letters, digits, "_" or "-": what workflows list in `tools:` and the model calls. */
  readonly name: string;
  readonly description: string;
  /** The arguments; the model sees its JSON Schema (`.describe()` texts included), calls are parsed by it. */
  readonly input: Input;
  readonly handler: (args: z.output<Input>, context: ToolContext) => Promise<string | ToolReply>;
  /** Default 30 000 ms; a step's `toolLimits.timeoutMs` can only lower it. */
  readonly timeoutMs?: number;
  /** Text handed to the model, default 16 KiB; a step's `toolLimits.maxOutputBytes` can only lower it. */
  readonly maxOutputBytes?: number;
}

const DEFINED = Symbol.for('durable-agents.defineTool');

/** What `defineTool` returns: found by the loader, built into a registry tool. */
export interface DefinedTool {
  readonly [DEFINED]: true;
  readonly name: string;
  build(now?: () => number): Tool;
}

export function isDefinedTool(value: unknown): value is DefinedTool {
  return typeof value === 'object' && value !== null && (value as Partial<DefinedTool>)[DEFINED] === true;
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

class ToolTimeout extends Error {}

export function defineTool<Input extends z.ZodObject>(options: ToolDefinitionOptions<Input>): DefinedTool {
  if (!NAME.test(options.name)) {
    throw new Error(`defineTool: name "${options.name}" must be 1-64 letters, digits, "_" or "-"`);
  }
  if (options.description.trim() === '') throw new Error(`defineTool ${options.name}: description is empty`);
  const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(options.input, {
    target: 'draft-2020-12',
    io: 'input',
  });
  const timeoutCeiling = options.timeoutMs ?? 30_000;
  const outputCeiling = options.maxOutputBytes ?? 16_384;
  return {
    [DEFINED]: true,
    name: options.name,
    build(now = () => performance.now()): Tool {
      return {
        spec: { name: options.name, description: options.description, inputSchema },
        async handler(rawInput): Promise<ToolCallResult> {
          const call = parseToolCall(
            rawInput,
            options.name,
            options.input as unknown as z.ZodType<z.output<Input>>,
            now,
          );
          if (!call.ok) return call.result;
          const { args, limits, results, input } = call;
          const timeoutMs = clampLimit(limits.timeoutMs, timeoutCeiling);
          const controller = new AbortController();
          let timer: NodeJS.Timeout | undefined;
          const deadline = new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => {
              controller.abort(new ToolTimeout());
              reject(new ToolTimeout());
            }, timeoutMs);
          });
          const context: ToolContext = {
            runId: input.runId,
            stepId: input.stepId,
            toolUseId: input.toolUseId,
            signal: controller.signal,
            limits,
          };
          try {
            const reply = await Promise.race([options.handler(args, context), deadline]);
            const { content, data } = typeof reply === 'string' ? { content: reply, data: undefined } : reply;
            const fitted = truncateUtf8(content, clampLimit(limits.maxOutputBytes, outputCeiling));
            return results.success(fitted.text, {
              truncated: fitted.truncated,
              ...(data === undefined ? {} : { data }),
            });
          } catch (error) {
            if (error instanceof ToolTimeout) {
              return results.failure('timeout', `${options.name} did not finish within ${timeoutMs} ms.`, {
                retryable: true,
              });
            }
            if (error instanceof ToolError) {
              return results.failure(error.kind, redactSecrets(error.message), {
                retryable: error.retryable,
                ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
              });
            }
            // An unexpected throw is the tool's bug: the model sees that it failed, not a stack trace.
            const message = error instanceof Error ? error.message : String(error);
            return results.failure('runtime_error', `${options.name} failed: ${redactSecrets(message)}`);
          } finally {
            clearTimeout(timer);
          }
        },
      };
    },
  };
}
