/**
 * Resolves the tasks an orchestrator yields the way the durable runtime would, from a script:
 * model answers, tool results, sub-orchestration results and approval events. Activity inputs are
 * parsed with the shared contracts, so a test also fails when an orchestrator sends a bad DTO.
 */
import { createHash } from 'node:crypto';
import { SaveArtifactInput } from '../../../src/shared/artifactTypes.js';
import {
  CallModelInput,
  type ModelMessage,
  type CallModelFailure,
  type CallModelResult,
  type CallModelSuccess,
  type TokenUsage,
} from '../../../src/shared/modelTypes.js';
import { Names } from '../../../src/shared/names.js';
import type { PayloadRef } from '../../../src/shared/payloadRef.js';
import { ToolCallInput, type ToolCallResult } from '../../../src/shared/toolTypes.js';
import {
  AppendTranscriptInput,
  compactedMessages,
  compactionPrompt,
  FinishCompactionInput,
  planCompaction,
  PrepareCompactionInput,
  userMessage,
} from '../../../src/shared/transcripts.js';
import { complete, type FakeTask, type Resolution } from '../../fakes/orchestrationContext.js';

export const NOW = new Date('2026-01-01T00:00:00.000Z');
export const TIMEOUT = Symbol('approval timeout');

export function usage(inputTokens = 100, outputTokens = 50): TokenUsage {
  return { inputTokens, outputTokens, cacheWriteTokens: 0, cacheReadTokens: 0 };
}

const success = (fields: Partial<CallModelSuccess>): CallModelSuccess => ({
  ok: true,
  message: { role: 'assistant', content: [{ type: 'text', text: '' }] },
  stopReason: 'end_turn',
  usage: usage(),
  costUsd: 0.01,
  priced: true,
  provider: 'foundry',
  deployment: 'claude-haiku',
  model: 'claude-haiku-4-5',
  offline: true,
  latencyMs: 5,
  ...fields,
});

export function answer(text: string, fields: Partial<CallModelSuccess> = {}): CallModelSuccess {
  return success({ message: { role: 'assistant', content: [{ type: 'text', text }] }, ...fields });
}

export function structured(value: unknown, fields: Partial<CallModelSuccess> = {}): CallModelSuccess {
  return answer(JSON.stringify(value), { structured: value, ...fields });
}

export interface RequestedTool {
  readonly id: string;
  readonly name: string;
  readonly input?: Record<string, unknown>;
}

export function toolUse(
  calls: RequestedTool[],
  text = '',
  fields: Partial<CallModelSuccess> = {},
): CallModelSuccess {
  return success({
    message: {
      role: 'assistant',
      content: [
        ...(text ? [{ type: 'text' as const, text }] : []),
        ...calls.map((call) => ({
          type: 'tool_use' as const,
          id: call.id,
          name: call.name,
          input: call.input ?? {},
        })),
      ],
    },
    stopReason: 'tool_use',
    ...fields,
  });
}

export function failure(fields: Partial<CallModelFailure> = {}): CallModelFailure {
  return {
    ok: false,
    retryable: true,
    kind: 'rate_limited',
    status: 429,
    message: 'slow down',
    provider: 'foundry',
    deployment: 'claude-haiku',
    fallbackAvailable: false,
    ...fields,
  };
}

export function toolResult(input: ToolCallInput, content: string, isError = false): ToolCallResult {
  return {
    toolUseId: input.toolUseId,
    name: input.name,
    isError,
    content,
    retryable: false,
    truncated: false,
    artifacts: [],
    durationMs: 3,
  };
}

/** Model answers in order; an extra call fails the test. */
export function scripted(results: CallModelResult[]): (input: CallModelInput) => CallModelResult {
  let calls = 0;
  return () => {
    const next = results[calls++];
    if (!next) throw new Error(`scripted model: no answer for call ${calls} (only ${results.length})`);
    return next;
  };
}

export interface Script {
  model?: (input: CallModelInput) => CallModelResult;
  tool?: (input: ToolCallInput) => unknown;
  child?: (task: FakeTask) => unknown;
  /** The payload of the approval event, or TIMEOUT to let the timer win. */
  event?: (name: string) => unknown;
  /** Make an activity throw (an infrastructure fault, after the durable retries). */
  fault?: (task: FakeTask) => Error | undefined;
  /** Any other activity (the provider batch ones), by name. */
  activity?: (name: string, input: unknown) => unknown;
}

export interface Observed {
  /** Sizes of every Task.all, in order. */
  readonly rounds: FakeTask[][];
  /** The children of every Task.any (event and timer), in order. */
  readonly races: FakeTask[][];
  readonly models: CallModelInput[];
  readonly saves: SaveArtifactInput[];
  /** appendTranscript inputs (the messages the loop sent to its snapshot), when the test asks for them. */
  readonly appends?: AppendTranscriptInput[];
}

/**
 * The transcript activities over an in-memory store, as src/activities/transcripts.ts does them over
 * Blob storage (same shared plan and compaction helpers, same references with size and SHA-256).
 */
const storedTranscripts = new Map<string, unknown>();

function storeTranscript(input: { runId: string; label: string; name: string }, value: unknown): PayloadRef {
  const segment = (text: string) => text.replace(/[^A-Za-z0-9._:[\]-]/g, '_');
  const path = `${segment(input.runId)}/transcripts/${segment(input.label)}/${input.name}`;
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  storedTranscripts.set(path, JSON.parse(body.toString('utf8')));
  return {
    container: 'agent-artifacts',
    path,
    size: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
  };
}

function loadTranscript(ref: PayloadRef): ModelMessage[] {
  const messages = storedTranscripts.get(ref.path);
  if (!Array.isArray(messages)) throw new Error(`no stored transcript ${ref.path}`);
  return messages as ModelMessage[];
}

/** What saveArtifact stored, by blobRef (transcripts of instances older than the claim check). */
const savedBlobs = new Map<string, string>();

/** A callModel input's transcript, resolved as callModel resolves it. */
export function transcriptOf(messages: CallModelInput['messages']): ModelMessage[] {
  if (Array.isArray(messages)) return messages;
  if ('ref' in messages) return [...loadTranscript(messages.ref), ...(messages.tail ?? [])];
  const saved = savedBlobs.get(messages.blobRef);
  if (saved === undefined) throw new Error(`no saved transcript ${messages.blobRef}`);
  return [...(JSON.parse(saved) as ModelMessage[]), ...(messages.tail ?? [])];
}

function snapshotOf(input: { runId: string; label: string; name: string }, messages: ModelMessage[]) {
  return {
    ref: storeTranscript(input, messages),
    messageCount: messages.length,
    chars: JSON.stringify(messages).length,
  };
}

function transcriptActivity(name: string, raw: unknown, observed: Observed): unknown {
  if (name === Names.activities.appendTranscript) {
    const input = AppendTranscriptInput.parse(raw);
    observed.appends?.push(input);
    const before = input.base ? loadTranscript(input.base.ref) : [];
    return snapshotOf(input, [...before, ...input.messages]);
  }
  if (name === Names.activities.prepareCompaction) {
    const input = PrepareCompactionInput.parse(raw);
    const plan = planCompaction(loadTranscript(input.transcript.ref), input.keepTurns);
    if (plan === undefined) return { due: false };
    return {
      due: true,
      prompt: storeTranscript(input, [userMessage(compactionPrompt(plan))]),
      older: plan.older.length,
    };
  }
  const input = FinishCompactionInput.parse(raw);
  const plan = planCompaction(loadTranscript(input.transcript.ref), input.keepTurns);
  if (plan === undefined) throw new Error('nothing to compact');
  return snapshotOf(input, compactedMessages(plan, input.summary));
}

const TRANSCRIPT_ACTIVITIES: ReadonlySet<string> = new Set([
  Names.activities.appendTranscript,
  Names.activities.prepareCompaction,
  Names.activities.finishCompaction,
]);

export function runtime(
  script: Script,
  observed: Observed = { rounds: [], races: [], models: [], saves: [] },
) {
  const atomic = (task: FakeTask): unknown => {
    const fault = script.fault?.(task);
    if (fault) throw fault;
    if (task.kind === 'timer') return undefined;
    if (task.kind === 'subOrchestration') {
      if (!script.child) throw new Error(`unexpected sub-orchestration ${task.name}`);
      return script.child(task);
    }
    if (task.kind !== 'activity') throw new Error(`unexpected ${task.kind} task`);
    if (task.name === Names.activities.callModel) {
      const input = CallModelInput.parse(task.input);
      observed.models.push(input);
      if (!script.model) throw new Error('unexpected model call');
      return script.model(input);
    }
    if (task.name !== undefined && TRANSCRIPT_ACTIVITIES.has(task.name)) {
      return transcriptActivity(task.name, task.input, observed);
    }
    if (task.name === Names.activities.saveArtifact) {
      const input = SaveArtifactInput.parse(task.input);
      observed.saves.push(input);
      const blobRef = `artifacts/${input.runId}/${input.name}`;
      if (input.content !== undefined) savedBlobs.set(blobRef, input.content);
      return { blobRef, bytes: input.content?.length ?? 0 };
    }
    if (task.name?.startsWith('tool_')) {
      if (!script.tool) throw new Error(`unexpected tool ${task.name}`);
      return script.tool(ToolCallInput.parse(task.input));
    }
    if (script.activity && task.name) return script.activity(task.name, task.input);
    throw new Error(`unexpected activity ${task.name}`);
  };

  const resolve = (task: FakeTask): Resolution => {
    if (task.kind === 'all') {
      const children = task.children ?? [];
      observed.rounds.push(children);
      const values: unknown[] = [];
      for (const child of children) {
        const outcome = resolve(child);
        if ('error' in outcome) {
          child.isFaulted = true;
          return outcome;
        }
        values.push(complete(child, outcome.value).result);
      }
      return { value: values };
    }
    if (task.kind === 'any') {
      const event = task.children?.find((c) => c.kind === 'event');
      const timer = task.children?.find((c) => c.kind === 'timer');
      if (!event || !timer || !script.event) throw new Error('unexpected Task.any');
      observed.races.push(task.children ?? []);
      const payload = script.event(event.name ?? '');
      return { value: payload === TIMEOUT ? complete(timer, undefined) : complete(event, payload) };
    }
    try {
      return { value: atomic(task) };
    } catch (error) {
      return { error: error as Error };
    }
  };
  return resolve;
}
