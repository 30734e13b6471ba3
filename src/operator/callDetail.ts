/**
 * Drill-down into one model or tool call of a run: what it was given and what it answered, rebuilt from
 * the Durable history (the HTTP API shows activity results, never activity inputs) and the agent's
 * orchestration input, with secret-looking values masked.
 *
 * A model call's request is the agent's transcript up to that call: its first prompt (or, after a
 * `continueAsNew`, the transcript the generation started with), then each earlier answer and the tool
 * results that followed it, in the order agentLoop appends them (orchestrators/agentLoop.ts). A
 * compaction call's summary shows as an answer like any other. A tool call's arguments are the matching
 * `tool_use` block of the answer that asked for it (`toolUseId`).
 */
import { CallModelResult, type ContentBlock, type ModelMessage } from '../shared/modelTypes.js';
import { Names } from '../shared/names.js';
import type { CallDetail, WaterfallSpan } from '../shared/operatorTypes.js';
import { AgentLoopInput } from '../shared/runTypes.js';
import { ToolCallResult } from '../shared/toolTypes.js';
import { redactSecrets } from './redact.js';
import { resultOf } from './timeline.js';
import { callNumbers, instanceSpans, type HistoryEvent, type InstanceHistory } from './waterfall.js';

/** An answer's parts for people: text, thinking summaries, tool calls (no signatures or encrypted reasoning). */
export function responseOf(message: ModelMessage, stopReason?: string): NonNullable<CallDetail['response']> {
  const blocks: readonly ContentBlock[] = message.content;
  const text = blocks.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
  const thinking = blocks.flatMap((block) => {
    if (block.type === 'thinking') return [block.thinking];
    if (block.type === 'reasoning') return block.summary ?? [];
    if (block.type === 'redacted_thinking') return ['[thinking redacted by the provider]'];
    return [];
  });
  const toolCalls = blocks.flatMap((block) =>
    block.type === 'tool_use' ? [{ id: block.id, name: block.name, arguments: block.input }] : [],
  );
  return { text, thinking, toolCalls, ...(stopReason === undefined ? {} : { stopReason }) };
}

/** Messages without opaque replay data (thinking signatures, encrypted reasoning), for reading. */
function readable(message: ModelMessage): unknown {
  return {
    role: message.role,
    content: message.content.map((block) => {
      if (block.type === 'thinking') return { type: 'thinking', thinking: block.thinking };
      if (block.type === 'reasoning') return { type: 'reasoning', summary: block.summary ?? [] };
      if (block.type === 'redacted_thinking') return { type: 'redacted_thinking' };
      return block;
    }),
  };
}

interface Completion {
  /** The activity's name: the completion's `FunctionName` (the API folds the scheduling event into it). */
  readonly name: string | undefined;
  readonly completion: HistoryEvent;
}

/** Finished activity calls by call number (waterfall.ts `callNumbers`), in the order they finished. */
function activities(history: readonly HistoryEvent[]): Map<number, Completion> {
  const found = new Map<number, Completion>();
  for (const [index, number] of callNumbers(history)) {
    const event = history[index] as HistoryEvent;
    if (event.EventType !== 'TaskCompleted' && event.EventType !== 'TaskFailed') continue;
    found.set(number, {
      name: typeof event.FunctionName === 'string' ? event.FunctionName : undefined,
      completion: event,
    });
  }
  return found;
}

const isModel = (entry: Completion) => entry.name === Names.activities.callModel;
const isTool = (entry: Completion) => typeof entry.name === 'string' && entry.name.startsWith('tool_');

/** The answer a completed model call carries (also the billed answer behind an `invalid_output` failure). */
function answerOf(entry: Completion) {
  if (!entry.completion || entry.completion.EventType !== 'TaskCompleted') return undefined;
  const parsed = CallModelResult.safeParse(resultOf(entry.completion));
  if (!parsed.success) return undefined;
  return parsed.data.ok ? parsed.data : parsed.data.answered;
}

/**
 * The detail of the call scheduled as `eventId` in `instance`, or undefined when that event is not a
 * model or tool call. `input` is the instance's orchestration input (agentLoop's, for the transcript).
 */
export function callDetail(
  runId: string,
  instance: InstanceHistory,
  input: unknown,
  eventId: number,
): CallDetail | undefined {
  const history = instance.historyEvents;
  const calls = activities(history);
  const target = calls.get(eventId);
  if (!target || !(isModel(target) || isTool(target))) return undefined;
  const span = instanceSpans(instance, { depth: 0, stepFor: () => undefined }).find(
    (candidate) => candidate.eventId === eventId,
  ) as WaterfallSpan;
  const failure =
    target.completion?.EventType === 'TaskFailed'
      ? { reason: target.completion.Reason, details: target.completion.Details }
      : undefined;
  const base = { runId, instanceId: instance.instanceId, eventId, span };

  // The transcript as agentLoop built it, up to the target call.
  const agent = AgentLoopInput.safeParse(input);
  const messages: ModelMessage[] = agent.success
    ? [
        ...(agent.data.state?.messages ?? [
          { role: 'user', content: [{ type: 'text', text: agent.data.prompt }] },
        ]),
      ]
    : [];
  const toolArguments = new Map<string, unknown>();
  let asked: string[] = [];
  let results: Extract<ContentBlock, { type: 'tool_result' }>[] = [];
  const flushResults = () => {
    // Tools finish in any order; agentLoop answers them in the order the model asked.
    const order = (block: { toolUseId: string }) => asked.indexOf(block.toolUseId);
    if (results.length > 0)
      messages.push({ role: 'user', content: results.sort((a, b) => order(a) - order(b)) });
    results = [];
  };
  for (const [id, entry] of calls) {
    if (isModel(entry)) {
      flushResults();
      if (id === eventId) break;
      const answer = answerOf(entry);
      if (answer) {
        messages.push(answer.message);
        asked = [];
        for (const block of answer.message.content) {
          if (block.type !== 'tool_use') continue;
          toolArguments.set(block.id, block.input);
          asked.push(block.id);
        }
      }
    } else if (isTool(entry)) {
      if (id === eventId) break;
      const result = ToolCallResult.safeParse(resultOf(entry.completion));
      if (result.success) {
        results.push({
          type: 'tool_result',
          toolUseId: result.data.toolUseId,
          content: result.data.content,
          isError: result.data.isError,
        });
      }
    }
  }

  if (isModel(target)) {
    const answer = answerOf(target);
    const request = agent.success
      ? {
          ...(agent.data.system === undefined ? {} : { system: agent.data.system }),
          messages: messages.map(readable),
          note: 'Rebuilt from the agent run’s history: its first prompt, then each earlier answer and the tool results after it.',
        }
      : {
          messages: [],
          note: 'A model step renders its prompt inside the run; the Durable history keeps only the answer.',
        };
    const parsedFailure =
      target.completion?.EventType === 'TaskCompleted'
        ? CallModelResult.safeParse(resultOf(target.completion))
        : undefined;
    const modelFailure =
      parsedFailure?.success && !parsedFailure.data.ok
        ? {
            kind: parsedFailure.data.kind,
            message: parsedFailure.data.message,
            status: parsedFailure.data.status,
          }
        : undefined;
    return redactSecrets({
      ...base,
      request,
      ...(answer ? { response: responseOf(answer.message, answer.stopReason) } : {}),
      ...((failure ?? modelFailure) ? { failure: failure ?? modelFailure } : {}),
    }) as CallDetail;
  }

  const result = target.completion ? resultOf(target.completion) : undefined;
  const parsed = ToolCallResult.safeParse(result);
  const toolUseId = parsed.success ? parsed.data.toolUseId : undefined;
  return redactSecrets({
    ...base,
    ...(toolUseId !== undefined && toolArguments.has(toolUseId)
      ? { arguments: toolArguments.get(toolUseId) }
      : {}),
    ...(result === undefined ? {} : { result }),
    ...(failure ? { failure } : {}),
  }) as CallDetail;
}
