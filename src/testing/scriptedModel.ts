/**
 * A strict scripted model for tests: the offline model server with a per-test script. Every request must
 * match the next step (or any pending step when `ordered: false`); anything else gets a 500 with a clear
 * body and is recorded, so `assertDone()` fails the test even if the code under test swallowed the error.
 */
import { seededRandom } from '../offline/prng.js';
import {
  startOfflineModelServer,
  type ModelReply,
  type OfflineModelServer,
  type Protocol,
  type RecordedModelRequest,
  type WireUsage,
} from '../offline/offlineModelServer.js';

export type { ModelReply, RecordedModelRequest } from '../offline/offlineModelServer.js';

/** Fields a request must have; strings match exactly, regular expressions search. */
export interface RequestPattern {
  readonly protocol?: Protocol;
  readonly path?: string | RegExp;
  readonly model?: string | RegExp;
  readonly system?: string | RegExp;
  readonly lastUserText?: string | RegExp;
  readonly toolNames?: readonly string[];
  readonly hasToolResult?: boolean;
  /** True for requests inside a provider batch, false for direct calls. */
  readonly inBatch?: boolean;
}
export type RequestMatcher = RequestPattern | ((request: RecordedModelRequest) => boolean);

export interface ScriptStep {
  /** Shown in failure messages. */
  readonly name?: string;
  readonly match?: RequestMatcher;
  readonly respond: ModelReply | ((request: RecordedModelRequest) => ModelReply);
}

export type Fault =
  'malformed' | 'missing_fields' | 'rate_limited' | 'overloaded' | 'server_error' | 'timeout';

/** Injects `fault` instead of the scripted answer, on every n-th matching request or with a seeded probability. */
export interface FaultRule {
  readonly fault: Fault;
  readonly everyNth?: number;
  readonly probability?: number;
  /** PRNG seed for `probability` (default 1), so a failing run replays exactly. */
  readonly seed?: number;
  readonly match?: RequestMatcher;
  /** For `rate_limited` / `overloaded` (default 1 s). */
  readonly retryAfterSeconds?: number;
  /** For `timeout`: how long the server stalls (default 10 min; cut short by `stop()`). */
  readonly stallMs?: number;
}

export interface ScriptedModelOptions {
  readonly steps?: readonly ScriptStep[];
  readonly faults?: readonly FaultRule[];
  /** Match steps in order (default) or take the first pending step that matches (for fan-out). */
  readonly ordered?: boolean;
  /** Unmatched requests fail (default) or get the deterministic offline answer. */
  readonly unexpected?: 'fail' | 'offline';
  /** The server's clock, for prompt-cache TTLs (default Date.now). */
  readonly now?: () => number;
}

export interface ScriptedModel extends Omit<OfflineModelServer, 'stop'> {
  /** Problems seen so far (unexpected requests); `assertDone()` throws when there are any. */
  readonly failures: readonly string[];
  /** Requests answered with an injected fault. */
  readonly faultsInjected: number;
  /** Appends steps to the script. */
  expect(...steps: ScriptStep[]): void;
  /** Throws if any request was unexpected or any step is left. */
  assertDone(): void;
  stop(): Promise<void>;
}

export const textResponse = (text: string, usage?: Partial<WireUsage>): ModelReply => ({
  kind: 'text',
  text,
  ...(usage ? { usage } : {}),
});
export const toolUseResponse = (
  name: string,
  input: Record<string, unknown>,
  usage?: Partial<WireUsage>,
): ModelReply => ({
  kind: 'tool_use',
  name,
  input,
  ...(usage ? { usage } : {}),
});
export const structuredResponse = (value: unknown, usage?: Partial<WireUsage>): ModelReply => ({
  kind: 'structured',
  value,
  ...(usage ? { usage } : {}),
});
export const errorResponse = (
  status: number,
  options: {
    retryAfterSeconds?: number;
    retryAfterMs?: number;
    message?: string;
    headers?: Record<string, string>;
  } = {},
): ModelReply => ({ kind: 'error', status, ...options });
export const malformedResponse = (variant: 'unparseable' | 'missing-fields' = 'unparseable'): ModelReply => ({
  kind: 'malformed',
  variant,
});
/** Exactly this status, headers and body (JSON-encoded unless a string), for shapes the helpers don't cover. */
export const rawResponse = (
  reply: { status?: number; headers?: Record<string, string>; body?: unknown; delayMs?: number } = {},
): ModelReply => ({ kind: 'raw', ...reply });
export const offlineResponse = (): ModelReply => ({ kind: 'offline' });
/** For a batch create request: the batch stays in progress for `inProgressPolls` polls, then ends. */
export const batchResponse = (inProgressPolls = 0): ModelReply => ({ kind: 'batch', inProgressPolls });
/** For a request inside a batch: never processed, as when the batch expires or is canceled first. */
export const unprocessedResponse = (outcome: 'expired' | 'canceled' = 'expired'): ModelReply => ({
  kind: 'unprocessed',
  outcome,
});
export const delayed = (reply: ModelReply, delayMs: number): ModelReply => ({ ...reply, delayMs });

const test = (expected: string | RegExp | undefined, actual: string | undefined) =>
  expected === undefined ||
  (typeof expected === 'string' ? actual === expected : expected.test(actual ?? ''));

export function matches(matcher: RequestMatcher | undefined, request: RecordedModelRequest): boolean {
  if (!matcher) return true;
  if (typeof matcher === 'function') return matcher(request);
  const view = request.view;
  return (
    (matcher.protocol === undefined || matcher.protocol === request.protocol) &&
    test(matcher.path, request.path) &&
    test(matcher.model, view?.model) &&
    test(matcher.system, view?.system) &&
    test(matcher.lastUserText, view?.lastUserText) &&
    (matcher.hasToolResult === undefined || matcher.hasToolResult === view?.hasToolResult) &&
    (matcher.inBatch === undefined || matcher.inBatch === (request.batch !== undefined)) &&
    (matcher.toolNames === undefined ||
      JSON.stringify(matcher.toolNames) === JSON.stringify(view?.tools.map((tool) => tool.name) ?? []))
  );
}

function faultReply(rule: FaultRule): ModelReply {
  switch (rule.fault) {
    case 'malformed':
      return malformedResponse('unparseable');
    case 'missing_fields':
      return malformedResponse('missing-fields');
    case 'rate_limited':
      return errorResponse(429, {
        retryAfterSeconds: rule.retryAfterSeconds ?? 1,
        message: 'Injected rate limit',
      });
    case 'overloaded':
      return errorResponse(529, {
        retryAfterSeconds: rule.retryAfterSeconds ?? 1,
        message: 'Injected overload',
      });
    case 'server_error':
      return errorResponse(500, { message: 'Injected server error' });
    case 'timeout':
      return delayed(offlineResponse(), rule.stallMs ?? 600_000);
  }
}

function describeRequest(request: RecordedModelRequest): string {
  const view = request.view;
  const text = (view?.lastUserText ?? '').replace(/\s+/g, ' ').slice(0, 80);
  const where = request.batch
    ? `batch ${request.batch.id} item ${request.batch.customId}`
    : `#${request.index}`;
  return `${where} ${request.method} ${request.path} (model ${view?.model ?? '?'}, last user text "${text}")`;
}

export async function startScriptedModel(options: ScriptedModelOptions = {}): Promise<ScriptedModel> {
  const pending: ScriptStep[] = [...(options.steps ?? [])];
  const failures: string[] = [];
  const faults = (options.faults ?? []).map((rule) => ({
    rule,
    seen: 0,
    random: seededRandom(rule.seed ?? 1),
  }));
  let faultsInjected = 0;

  const script = (request: RecordedModelRequest): ModelReply => {
    for (const state of faults) {
      if (!matches(state.rule.match, request)) continue;
      state.seen += 1;
      const byCount = state.rule.everyNth !== undefined && state.seen % state.rule.everyNth === 0;
      const byChance = state.rule.probability !== undefined && state.random() < state.rule.probability;
      if (byCount || byChance) {
        faultsInjected += 1;
        return faultReply(state.rule);
      }
    }
    const candidates = options.ordered === false ? pending : pending.slice(0, 1);
    const index = candidates.findIndex((step) => matches(step.match, request));
    const step = index >= 0 ? pending.splice(index, 1)[0] : undefined;
    if (step) return typeof step.respond === 'function' ? step.respond(request) : step.respond;
    if (options.unexpected === 'offline') return offlineResponse();
    const next = pending[0];
    const problem = next
      ? `request ${describeRequest(request)} does not match the next step ${next.name ?? '(unnamed)'}`
      : `unexpected request ${describeRequest(request)}: the script has no steps left`;
    failures.push(problem);
    return errorResponse(500, { message: `Scripted model: ${problem}` });
  };

  const server = await startOfflineModelServer({ script, ...(options.now ? { now: options.now } : {}) });
  return {
    url: server.url,
    anthropicBaseUrl: server.anthropicBaseUrl,
    foundryBaseUrl: server.foundryBaseUrl,
    openaiBaseUrl: server.openaiBaseUrl,
    azureOpenAIBaseUrl: server.azureOpenAIBaseUrl,
    requests: server.requests,
    batchItems: server.batchItems,
    promptCache: server.promptCache,
    failures,
    get faultsInjected() {
      return faultsInjected;
    },
    expect(...steps) {
      pending.push(...steps);
    },
    assertDone() {
      const problems = [
        ...failures,
        ...pending.map((step) => `step ${step.name ?? '(unnamed)'} was never called`),
      ];
      if (problems.length > 0) throw new Error(`Scripted model:\n  - ${problems.join('\n  - ')}`);
    },
    stop: () => server.stop(),
  };
}
