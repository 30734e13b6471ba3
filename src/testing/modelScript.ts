/**
 * Model scripts by workflow step and role. A model request carries no step id on the wire, so the harness
 * learns it from the `callModel` activity that makes the request: it runs one `callModel` at a time and
 * keeps that call's input (run, step label, role, fallback attempt) as the "current call" while the real
 * activity sends its request to the scripted model. Parallel steps still run in parallel; only their model
 * calls take turns, which changes no result (each call is its own activity, and the orchestrator waits for
 * all of them either way).
 */
import { z } from 'zod';
import type { Fault, FaultRule, RequestMatcher, ScriptStep } from './scriptedModel.js';
import { matches, type ModelReply, type RecordedModelRequest } from './scriptedModel.js';

/** The `callModel` activity call a model request belongs to. */
export interface ModelCall {
  readonly runId: string;
  /** The step's label: its id, `<map>:<index>` for a map item, `<parallel>.<branch>` for a branch. */
  readonly stepId: string;
  readonly role: string;
  /** 0 = the role's own deployment; n = the n-th fallback. */
  readonly attempt: number;
}

export const ModelCallInput = z.looseObject({
  runId: z.string(),
  stepId: z.string(),
  role: z.string(),
  attempt: z.number().int().nonnegative().optional(),
});

/** A step id matches its own label and the labels of its map items and parallel branches. */
export function stepMatches(expected: string | RegExp | undefined, label: string | undefined): boolean {
  if (expected === undefined) return true;
  if (label === undefined) return false;
  if (typeof expected !== 'string') return expected.test(label);
  return label === expected || label.startsWith(`${expected}:`) || label.startsWith(`${expected}.`);
}

interface CallFilter {
  /** The workflow step (an id matches the step, its map items and its branches; a RegExp the label). */
  readonly step?: string | RegExp;
  /** The role the step asked for (`planner`, `worker`, `writer`, …). */
  readonly role?: string;
  /** Further conditions on the request itself (model, system prompt, last user text, tools, …). */
  readonly match?: RequestMatcher;
}

/** One scripted answer; each is used once, in script order among those that match. */
export interface ModelStepScript extends CallFilter {
  /** Shown when the step is never called or a request matches nothing. */
  readonly name?: string;
  readonly respond: ModelReply | ((request: RecordedModelRequest, call: ModelCall | undefined) => ModelReply);
}

/** A fault injected instead of the scripted answer (every n-th matching request, or by seeded chance). */
export interface ModelFaultScript extends CallFilter {
  readonly fault: Fault;
  readonly everyNth?: number;
  readonly probability?: number;
  readonly seed?: number;
  readonly retryAfterSeconds?: number;
  readonly stallMs?: number;
}

/** Tracks the `callModel` activity whose request the scripted model is answering. */
export class ModelCallTracker {
  #current: ModelCall | undefined;
  #queue: Promise<void> = Promise.resolve();

  get current(): ModelCall | undefined {
    return this.#current;
  }

  /** Runs `work` for `call` after every earlier call has finished. */
  run<T>(call: ModelCall, work: () => Promise<T>): Promise<T> {
    const turn = this.#queue.then(async () => {
      this.#current = call;
      try {
        return await work();
      } finally {
        this.#current = undefined;
      }
    });
    this.#queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  matcher(filter: CallFilter): RequestMatcher {
    return (request) =>
      stepMatches(filter.step, this.#current?.stepId) &&
      (filter.role === undefined || filter.role === this.#current?.role) &&
      matches(filter.match, request);
  }

  scriptSteps(steps: readonly ModelStepScript[]): ScriptStep[] {
    return steps.map((step, index) => ({
      name: step.name ?? describeFilter(step, index),
      match: this.matcher(step),
      respond:
        typeof step.respond === 'function'
          ? (
              (respond) => (request: RecordedModelRequest) =>
                respond(request, this.#current)
            )(step.respond)
          : step.respond,
    }));
  }

  faultRules(faults: readonly ModelFaultScript[]): FaultRule[] {
    return faults.map(({ step: _step, role: _role, match: _match, ...rule }, index) => {
      const filter = faults[index] as ModelFaultScript;
      return { ...rule, match: this.matcher(filter) };
    });
  }
}

function describeFilter(filter: CallFilter, index: number): string {
  const parts = [
    filter.step === undefined ? undefined : `step ${String(filter.step)}`,
    filter.role === undefined ? undefined : `role ${filter.role}`,
  ].filter((part) => part !== undefined);
  return `#${index + 1}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/**
 * How many tool results a request carries back to the model: Anthropic `tool_result` blocks, Chat
 * Completions `tool` messages, Responses `function_call_output` items. In an agent step that is the turn:
 * 0 for the first call, n after n tool calls.
 */
export function toolResultCount(request: RecordedModelRequest): number {
  const body = request.body as { messages?: unknown; input?: unknown } | undefined;
  let count = 0;
  for (const message of Array.isArray(body?.messages) ? (body.messages as unknown[]) : []) {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    if (role === 'tool') count += 1;
    if (Array.isArray(content))
      count += content.filter((block) => (block as { type?: unknown } | null)?.type === 'tool_result').length;
  }
  for (const item of Array.isArray(body?.input) ? (body.input as unknown[]) : []) {
    if ((item as { type?: unknown } | null)?.type === 'function_call_output') count += 1;
  }
  return count;
}

/** Matches the agent turn after exactly `toolResults` tool results (see {@link toolResultCount}). */
export const afterToolResults =
  (toolResults: number): RequestMatcher =>
  (request) =>
    toolResultCount(request) === toolResults;
