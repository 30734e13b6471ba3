/**
 * agentLoop: model turn → the requested tool calls in parallel → model turn …, one activity per
 * model call and per tool call. Bounded by `maxTurns` and the budget; continues as new every
 * `turnsPerGeneration` turns so the history of a long loop stays bounded.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { firstLine } from '../definitions/expressions.js';
import type {
  CallModelSuccess,
  ModelMessage,
  ToolDefinition,
  ToolResultBlock,
  ToolUseBlock,
} from '../shared/modelTypes.js';
import { Names, toolActivityName } from '../shared/names.js';
import {
  AgentLoopInput,
  type AgentLoopOptions,
  type AgentLoopOutput,
  type AgentLoopState,
  type AgentOutcome,
  type AgentProgress,
  type RunError,
  type RunErrorOf,
} from '../shared/runTypes.js';
import { ToolCallResult, type ArtifactRef, type ToolCallInput } from '../shared/toolTypes.js';
import { addModelCall, addToolSpend, budgetOverrun, emptyLedger } from './ledger.js';
import {
  INFRASTRUCTURE_RETRY,
  answerOf,
  callModelWithPolicy,
  modelRetryPolicy,
  textOf,
  type RecordModelCall,
} from './modelPolicy.js';
import { imageArtifacts, promptMessage } from './attachments.js';
import { asRunStopped, parseOrchestrationInput, stepFailed } from './runStopped.js';
import { traceField } from './trace.js';
import {
  COMPACTION_SYSTEM,
  compactedMessages,
  compactionPrompt,
  jsonChars,
  planCompaction,
  PrepareCompactionOutput,
  TranscriptSnapshot,
  userMessage,
  type FinishCompactionInput,
  type LegacyTranscriptSnapshot,
  type PrepareCompactionInput,
} from '../shared/transcripts.js';
import { flushTranscript, transcriptForModel, type Transcript, type TranscriptOwner } from './transcript.js';
import { legacyTranscriptForModel, type LegacyTranscript } from './transcriptLegacy.js';
import { atLeast, ORCHESTRATION_VERSIONS } from './version.js';

/** The loop's transcript: by claim check (Transcript) or, for older instances, LegacyTranscript. */
interface AnyTranscript {
  readonly messages: readonly ModelMessage[];
  readonly snapshot?: TranscriptSnapshot | LegacyTranscriptSnapshot;
}

function append(transcript: AnyTranscript, message: ModelMessage): AnyTranscript {
  return { ...transcript, messages: [...transcript.messages, message] };
}

function current(transcript: AnyTranscript): Transcript {
  const { snapshot } = transcript;
  if (snapshot !== undefined && 'blobRef' in snapshot)
    throw new Error('agentLoop: a transcript snapshot by blobRef in an instance that uses the claim check');
  return { messages: transcript.messages, ...(snapshot ? { snapshot } : {}) };
}

function legacy(transcript: AnyTranscript): LegacyTranscript {
  const { snapshot } = transcript;
  if (snapshot !== undefined && 'ref' in snapshot)
    throw new Error('agentLoop: a claim-check transcript snapshot in an instance older than the claim check');
  return { messages: transcript.messages, ...(snapshot ? { snapshot } : {}) };
}

export const DEFAULT_AGENT_OPTIONS: Required<AgentLoopOptions> = {
  turnsPerGeneration: 20,
  transcriptOffloadChars: 8_192,
  toolResultMaxChars: 20_000,
  compactAt: 0.7,
  compactKeepTurns: 4,
};

/** The role that summarizes older turns when the loop compacts its transcript. */
export const COMPACTION_ROLE = 'worker';

export function* agentLoopOrchestrator(
  context: OrchestrationContext,
): Generator<Task, AgentLoopOutput | undefined, unknown> {
  const input = parseOrchestrationInput(AgentLoopInput, context.df.getInput(), Names.orchestrators.agentLoop);
  const options = { ...DEFAULT_AGENT_OPTIONS, ...input.options?.agent };
  const policy = modelRetryPolicy(input.options?.modelRetry);
  const state: AgentLoopState = input.state ?? {
    generation: 0,
    turn: 0,
    toolCalls: 0,
    messages: [promptMessage(input.prompt, input.attachments)],
    lastText: '',
    ledger: emptyLedger(),
    artifacts: [],
  };
  let { turn, toolCalls, ledger, lastText } = state;
  const artifacts = [...state.artifacts];
  // Instances created before the transcript claim check keep the saveArtifact path (transcriptLegacy.ts).
  const claimCheck = atLeast(context, ORCHESTRATION_VERSIONS.transcriptClaimCheck);
  let transcript: AnyTranscript = {
    messages: state.messages,
    ...(state.snapshot ? { snapshot: state.snapshot } : {}),
  };
  const allowed = new Map(input.tools.map((tool) => [tool.name, tool]));
  const owner = (atTurn: number): TranscriptOwner => ({
    runId: input.runId,
    label: input.stepId,
    turn: atTurn,
  });

  const report = () =>
    context.df.setCustomStatus({
      stepId: input.stepId,
      generation: state.generation,
      turn,
      maxTurns: input.maxTurns,
      toolCalls,
      usage: ledger.totals.usage,
      costUsd: ledger.totals.costUsd,
    } satisfies AgentProgress);
  const finish = (outcome: AgentOutcome, output: unknown, error?: RunError): AgentLoopOutput => {
    report();
    return {
      outcome,
      output,
      text: lastText,
      turns: turn,
      toolCalls,
      ...(error ? { error } : {}),
      ledger,
      artifacts,
    };
  };

  try {
    for (let turnsThisGeneration = 0; ; turnsThisGeneration++) {
      if (turn >= input.maxTurns) return finish('max_turns', null);
      if (turnsThisGeneration >= options.turnsPerGeneration) {
        // The carry holds the snapshot's reference and at most offloadChars of messages, never the transcript.
        if (claimCheck && jsonChars(transcript.messages) > options.transcriptOffloadChars) {
          transcript = yield* flushTranscript(context, current(transcript), owner(turn));
        }
        const next: AgentLoopState = {
          generation: state.generation + 1,
          turn,
          toolCalls,
          messages: [...transcript.messages],
          ...(transcript.snapshot ? { snapshot: transcript.snapshot } : {}),
          lastText,
          ledger,
          artifacts,
        };
        context.df.continueAsNew({ ...input, state: next } satisfies AgentLoopInput);
        return undefined;
      }

      const prepared = claimCheck
        ? yield* transcriptForModel(context, current(transcript), owner(turn), options.transcriptOffloadChars)
        : yield* legacyTranscriptForModel(
            context,
            legacy(transcript),
            { runId: input.runId, label: input.stepId },
            options.transcriptOffloadChars,
          );
      transcript = prepared.transcript;
      const result = yield* callModelWithPolicy(
        context,
        {
          role: input.role,
          ...(input.route === undefined ? {} : { route: input.route }),
          ...(input.system === undefined ? {} : { system: input.system }),
          messages: prepared.messages,
          ...(input.tools.length > 0 ? { tools: input.tools } : {}),
          ...(input.outputSchema === undefined ? {} : { outputSchema: input.outputSchema }),
          ...(input.maxTokens === undefined ? {} : { maxTokens: input.maxTokens }),
          ...(input.thinking === undefined ? {} : { thinking: input.thinking }),
          ...(input.effort === undefined ? {} : { effort: input.effort }),
          ...(input.reasoningEffort === undefined ? {} : { reasoningEffort: input.reasoningEffort }),
          runId: input.runId,
          stepId: input.stepId,
          ...traceField(input.trace),
        },
        policy,
        (answered) => {
          ledger = addModelCall(ledger, input.stepId, input.role, answered);
        },
      );
      turn += 1;
      // A paused turn (pause_turn: a long server-tool turn) is continued by sending the transcript
      // back with the assistant turn as returned and no user turn after it. One that came back with
      // nothing we keep is not appended: an empty assistant turn would go out as a prefill.
      const paused = result.stopReason === 'pause_turn';
      if (!paused || !isEmptyTurn(result.message)) transcript = append(transcript, result.message);
      lastText = textOf(result.message) || lastText;
      report();

      const overrun = budgetOverrun(ledger, input.budget);
      if (overrun !== undefined) {
        return finish('budget_exceeded', null, {
          stepId: input.stepId,
          kind: 'BudgetExceeded',
          message: `${overrun} (stopped after turn ${turn})`,
        } satisfies RunErrorOf);
      }
      const calls = result.message.content.filter(
        (block): block is ToolUseBlock => block.type === 'tool_use',
      );
      if (paused) continue;
      if (result.stopReason !== 'tool_use' || calls.length === 0) {
        return finish('completed', answerOf(result, input.outputSchema !== undefined, input.stepId));
      }
      // The model would never see these results.
      if (turn >= input.maxTurns) return finish('max_turns', null);

      const { results, produced, spent } = yield* runToolCalls(
        context,
        input,
        calls,
        allowed,
        options.toolResultMaxChars,
      );
      toolCalls += calls.length;
      artifacts.push(...produced);
      ledger = addToolSpend(ledger, input.stepId, spent);
      transcript = append(transcript, { role: 'user', content: results });
      const recordSummary: RecordModelCall = (summary) => {
        ledger = addModelCall(ledger, input.stepId, input.compaction?.role ?? COMPACTION_ROLE, summary);
      };
      transcript = claimCheck
        ? yield* compactIfDue(
            context,
            input,
            options,
            current(transcript),
            owner(turn),
            result,
            recordSummary,
          )
        : yield* legacyCompactIfDue(context, input, options, legacy(transcript), result, recordSummary);
      report();
    }
  } catch (error) {
    const stop = asRunStopped(error, input.stepId);
    return finish(stop.outcome, null, stop.error);
  }
}

/**
 * Compacts the transcript before the next turn when this turn's input (cache reads and writes
 * included) passed `compactAt` of the deployment's context window (known from callModel's
 * `limits`): the first message and the last `compactKeepTurns` turns stay, the turns between are
 * summarized by the worker role (one callModel through the policy) into one message. The activities
 * read the transcript and plan the cut (`prepareCompaction`, `finishCompaction`, the same plan from
 * the same snapshot); the orchestrator only sees references and the summary. Decided only from
 * activity results, so replay takes the same path.
 */
function* compactIfDue(
  context: OrchestrationContext,
  input: AgentLoopInput,
  options: Required<AgentLoopOptions>,
  transcript: Transcript,
  owner: TranscriptOwner,
  last: CallModelSuccess,
  record: RecordModelCall,
): Generator<Task, Transcript, unknown> {
  const window = last.limits?.contextWindow;
  if (window === undefined) return transcript;
  const { inputTokens, cacheReadTokens, cacheWriteTokens } = last.usage;
  const promptTokens = inputTokens + cacheReadTokens + cacheWriteTokens;
  if (promptTokens <= options.compactAt * window) return transcript;
  const whole = yield* flushTranscript(context, transcript, owner);
  if (whole.snapshot === undefined) return transcript;
  const place = { runId: input.runId, label: input.stepId, keepTurns: options.compactKeepTurns };
  const prepared = PrepareCompactionOutput.parse(
    yield context.df.callActivityWithRetry(Names.activities.prepareCompaction, INFRASTRUCTURE_RETRY, {
      ...place,
      name: `t${owner.turn}-compaction.json`,
      transcript: whole.snapshot,
    } satisfies PrepareCompactionInput),
  );
  if (!prepared.due) return whole;
  if (!context.df.isReplaying) {
    context.log(
      `${input.stepId}: ${promptTokens} input tokens of a ${window} window; compacting ${prepared.older} messages`,
    );
  }
  const summary = yield* callModelWithPolicy(
    context,
    {
      // The workflow's worker when its `roles` re-points it (steps.ts), else the configured one.
      ...(input.compaction ?? { role: COMPACTION_ROLE }),
      system: COMPACTION_SYSTEM,
      messages: { ref: prepared.prompt },
      runId: input.runId,
      stepId: input.stepId,
      ...traceField(input.trace),
    },
    modelRetryPolicy(input.options?.modelRetry),
    record,
  );
  const compacted = TranscriptSnapshot.parse(
    yield context.df.callActivityWithRetry(Names.activities.finishCompaction, INFRASTRUCTURE_RETRY, {
      ...place,
      name: `t${owner.turn}-compacted.json`,
      transcript: whole.snapshot,
      summary: textOf(summary.message),
    } satisfies FinishCompactionInput),
  );
  return { messages: [], snapshot: compacted };
}

/**
 * compactIfDue for instances older than the transcript claim check, as they ran: the orchestrator plans
 * the cut from the whole transcript it holds and the summary replaces the older turns inline.
 */
function* legacyCompactIfDue(
  context: OrchestrationContext,
  input: AgentLoopInput,
  options: Required<AgentLoopOptions>,
  transcript: LegacyTranscript,
  last: CallModelSuccess,
  record: RecordModelCall,
): Generator<Task, LegacyTranscript, unknown> {
  const window = last.limits?.contextWindow;
  if (window === undefined) return transcript;
  const { inputTokens, cacheReadTokens, cacheWriteTokens } = last.usage;
  const promptTokens = inputTokens + cacheReadTokens + cacheWriteTokens;
  if (promptTokens <= options.compactAt * window) return transcript;
  const plan = planCompaction(transcript.messages, options.compactKeepTurns);
  if (plan === undefined) return transcript;
  if (!context.df.isReplaying) {
    context.log(
      `${input.stepId}: ${promptTokens} input tokens of a ${window} window; compacting ${plan.older.length} messages`,
    );
  }
  const request = yield* legacyTranscriptForModel(
    context,
    { messages: [userMessage(compactionPrompt(plan))] },
    { runId: input.runId, label: `${input.stepId}-compaction` },
    options.transcriptOffloadChars,
  );
  const summary = yield* callModelWithPolicy(
    context,
    {
      // The workflow's worker when its `roles` re-points it (steps.ts), else the configured one.
      ...(input.compaction ?? { role: COMPACTION_ROLE }),
      system: COMPACTION_SYSTEM,
      messages: request.messages,
      runId: input.runId,
      stepId: input.stepId,
      ...traceField(input.trace),
    },
    modelRetryPolicy(input.options?.modelRetry),
    record,
  );
  return { messages: compactedMessages(plan, textOf(summary.message)) };
}

/** The requested calls at once; a tool outside the allow-list gets an error result and runs nothing. */
function* runToolCalls(
  context: OrchestrationContext,
  input: AgentLoopInput,
  calls: readonly ToolUseBlock[],
  allowed: ReadonlyMap<string, ToolDefinition>,
  maxChars: number,
): Generator<
  Task,
  { results: ToolResultBlock[]; produced: ArtifactRef[]; spent: ToolCallResult[] },
  unknown
> {
  const scheduled = calls.map((call) =>
    allowed.has(call.name)
      ? context.df.callActivityWithRetry(toolActivityName(call.name), INFRASTRUCTURE_RETRY, {
          runId: input.runId,
          stepId: input.stepId,
          toolUseId: call.id,
          name: call.name,
          arguments: call.input,
          ...(input.toolLimits === undefined ? {} : { limits: input.toolLimits }),
          ...(input.inputFiles === undefined ? {} : { inputFiles: input.inputFiles }),
          ...traceField(input.trace),
        } satisfies ToolCallInput)
      : undefined,
  );
  const tasks = scheduled.filter((task): task is Task => task !== undefined);
  let outputs: unknown[] = [];
  if (tasks.length > 0) {
    try {
      outputs = (yield context.df.Task.all(tasks)) as unknown[];
    } catch (error) {
      const reason = error instanceof Error ? firstLine(error.message) : String(error);
      throw stepFailed(input.stepId, 'tool_failed', `a tool activity failed: ${reason}`);
    }
  }
  let next = 0;
  const produced: ArtifactRef[] = [];
  const spent: ToolCallResult[] = [];
  const results = calls.map((call, index): ToolResultBlock => {
    if (scheduled[index] === undefined) {
      const offered = [...allowed.keys()].join(', ') || 'none';
      return errorResult(call, `Tool "${call.name}" is not available in this step (available: ${offered}).`);
    }
    const parsed = ToolCallResult.safeParse(outputs[next++]);
    if (!parsed.success) return errorResult(call, `Tool "${call.name}" returned an unreadable result.`);
    produced.push(...parsed.data.artifacts);
    if (parsed.data.spend) spent.push(parsed.data);
    // Images the tool wrote (a run_code chart) go back to the model with its result.
    const images = parsed.data.isError ? [] : imageArtifacts(parsed.data.artifacts);
    return {
      type: 'tool_result',
      toolUseId: call.id,
      content: capText(parsed.data.content, maxChars),
      isError: parsed.data.isError,
      ...(images.length > 0 ? { files: images } : {}),
    };
  });
  return { results, produced, spent };
}

function isEmptyTurn(message: ModelMessage): boolean {
  return message.content.every((block) => block.type === 'text' && block.text.trim() === '');
}

function errorResult(call: ToolUseBlock, content: string): ToolResultBlock {
  return { type: 'tool_result', toolUseId: call.id, content, isError: true };
}

export function capText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n…[truncated ${text.length - maxChars} characters]`;
}
