/** One runner per step kind. Each returns the step's output or throws `RunStopped`. */
import type { Task } from 'durable-functions';
import { z } from 'zod';
import {
  compileExpression,
  compileTemplate,
  evaluate,
  evaluateTemplates,
  firstLine,
  type ExpressionScope,
} from '../definitions/expressions.js';
import type {
  AgentStep,
  LlmStep,
  MapStep,
  ParallelStep,
  Step,
  WorkflowCallStep,
} from '../definitions/schema.js';
import type { ToolDefinition } from '../shared/modelTypes.js';
import { SavedArtifact, type SaveArtifactInput } from '../shared/artifactTypes.js';
import { Names } from '../shared/names.js';
import type { ArtifactRef } from '../shared/toolTypes.js';
import {
  AgentLoopOutput,
  RunWorkflowOutput,
  type AgentLoopInput,
  type RunWorkflowInput,
} from '../shared/runTypes.js';
import { COMPACTION_ROLE } from './agentLoop.js';
import { awaitApproval } from './approval.js';
import { attachmentsOf, promptMessage } from './attachments.js';
import { runWithConcurrency, type TaskGenerator } from './concurrency.js';
import { prefixRows, remainingBudget } from './ledger.js';
import { runLlmBatch } from './providerBatchStep.js';
import { INFRASTRUCTURE_RETRY, answerOf, callModelWithPolicy } from './modelPolicy.js';
import { isEnabled, renderText } from './render.js';
import {
  childInstanceId,
  recordChildLedger,
  recordModelCall,
  reportProgress,
  resolveRole,
  type RunState,
  type StepAt,
} from './runState.js';
import { budgetExceeded, childStepFailed, stepFailed } from './runStopped.js';
import { addToolCalls, childToolCalls, markWaiting } from './timeline.js';
import { traceField } from './trace.js';

/** Most items a map runs at once, whatever its `concurrency` says. */
export const MAX_MAP_CONCURRENCY = 50;

/** Runs any step kind; nested steps (map items, branches) come through here too. */
export function* runStep(
  run: RunState,
  step: Step,
  scope: ExpressionScope,
  at: StepAt,
): TaskGenerator<unknown> {
  switch (step.kind) {
    case 'llm':
      return yield* runLlmStep(run, step, scope, at);
    case 'agent':
      return yield* runAgentStep(run, step, scope, at);
    case 'workflow':
      return yield* runWorkflowStep(run, step, scope, at);
    case 'map':
      return yield* runMapStep(run, step, scope, at);
    case 'parallel':
      return yield* runParallelStep(run, step, scope, at);
    case 'approval': {
      const message = step.message === undefined ? {} : { message: renderText(step.message, scope) };
      const output = yield* awaitApproval(run.context, step, (wait) => {
        markWaiting(run.timeline, true);
        reportProgress(run, { waitingFor: { ...wait, ...message } });
      });
      markWaiting(run.timeline, false);
      reportProgress(run, { waitingFor: undefined });
      return output;
    }
  }
}

function* runLlmStep(
  run: RunState,
  step: LlmStep,
  scope: ExpressionScope,
  at: StepAt,
): TaskGenerator<unknown> {
  if (step.batch === true) {
    const [output] = yield* runLlmBatch(run, step, [scope], at, () => at.label);
    return output;
  }
  const { role, route } = resolveRole(run.input.definition, step.role);
  const result = yield* callModelWithPolicy(
    run.context,
    {
      role,
      ...(route === undefined ? {} : { route }),
      ...(step.system === undefined ? {} : { system: renderText(step.system, scope) }),
      messages: [promptMessage(renderText(step.prompt, scope), attachmentsOf(step.attach, scope, at.label))],
      ...(step.outputSchema === undefined ? {} : { outputSchema: step.outputSchema }),
      ...(step.maxTokens === undefined ? {} : { maxTokens: step.maxTokens }),
      ...(step.thinking === undefined ? {} : { thinking: step.thinking }),
      ...(step.effort === undefined ? {} : { effort: step.effort }),
      ...(step.reasoningEffort === undefined ? {} : { reasoningEffort: step.reasoningEffort }),
      runId: run.runId,
      stepId: at.label,
      ...traceField(run.trace),
    },
    run.modelRetry,
    (answered) => recordModelCall(run, at, role, answered),
  );
  return answerOf(result, step.outputSchema !== undefined, at.label);
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  csv: 'text/csv',
  json: 'application/json',
  md: 'text/markdown',
  tsv: 'text/tab-separated-values',
};

/**
 * An agent step's read-only files, saved once before the loop so tool calls carry references. A
 * template whose value is already a blob reference (`{ blobRef }`, e.g. an input too large for the
 * request body) is passed through as is.
 */
function* saveInputFiles(
  run: RunState,
  files: Readonly<Record<string, string>>,
  scope: ExpressionScope,
  at: StepAt,
): TaskGenerator<ArtifactRef[]> {
  const pending = Object.entries(files).map(([name, template]) => {
    const contentType = CONTENT_TYPES[name.split('.').pop()?.toLowerCase() ?? ''] ?? 'text/plain';
    const value = evaluate(compileTemplate(template), scope);
    const existing = BlobReference.safeParse(value);
    if (existing.success) {
      return {
        kind: 'existing' as const,
        name,
        contentType,
        ref: existing.data.blobRef,
        bytes: existing.data.bytes ?? 0,
      };
    }
    const request: SaveArtifactInput = {
      runId: run.runId,
      name: `inputs/${at.label}/${name}`,
      contentType,
      content: typeof value === 'string' ? value : JSON.stringify(value),
    };
    const task = run.context.df.callActivityWithRetry(
      Names.activities.saveArtifact,
      INFRASTRUCTURE_RETRY,
      request,
    );
    return { kind: 'save' as const, name, contentType, task };
  });
  const tasks = pending.flatMap((file) => (file.kind === 'save' ? [file.task] : []));
  const saved = tasks.length > 0 ? ((yield run.context.df.Task.all(tasks)) as unknown[]) : [];
  let next = 0;
  return pending.map((file) => {
    if (file.kind === 'existing') {
      return { name: file.name, blobRef: file.ref, contentType: file.contentType, bytes: file.bytes };
    }
    const artifact = SavedArtifact.parse(saved[next++]);
    return {
      name: file.name,
      blobRef: artifact.blobRef,
      contentType: file.contentType,
      bytes: artifact.bytes,
    };
  });
}

const BlobReference = z.strictObject({
  blobRef: z.string().min(1),
  bytes: z.number().int().nonnegative().optional(),
});

/** Yields a sub-orchestration; a thrown child (a crash, not a typed outcome) fails the step. */
function* callChild(run: RunState, name: string, input: unknown, at: StepAt): TaskGenerator<unknown> {
  try {
    return yield run.context.df.callSubOrchestrator(name, input, childInstanceId(run, at));
  } catch (error) {
    const reason = error instanceof Error ? firstLine(error.message) : String(error);
    throw stepFailed(at.label, 'child_failed', `${name} ${childInstanceId(run, at)} failed: ${reason}`);
  }
}

function allowedTools(run: RunState, step: AgentStep, at: StepAt): ToolDefinition[] {
  return step.tools.map((name) => {
    const tool = run.input.tools[name];
    if (!tool) throw stepFailed(at.label, 'unknown_tool', `tool "${name}" has no definition in this run`);
    return tool;
  });
}

/**
 * The workflow's `worker` for compaction, when its `roles` re-points it; nothing otherwise, so an
 * agent's input (and the histories recorded before this field) stays as it was.
 */
function compactionField(run: RunState): Pick<AgentLoopInput, 'compaction'> {
  const compaction = resolveRole(run.input.definition, COMPACTION_ROLE);
  return compaction.role === COMPACTION_ROLE && compaction.route === undefined ? {} : { compaction };
}

function* runAgentStep(
  run: RunState,
  step: AgentStep,
  scope: ExpressionScope,
  at: StepAt,
): TaskGenerator<unknown> {
  const budget = remainingBudget(run.ledger, run.budget);
  const inputFiles = step.files === undefined ? undefined : yield* saveInputFiles(run, step.files, scope, at);
  const input: AgentLoopInput = {
    runId: run.runId,
    stepId: at.label,
    ...resolveRole(run.input.definition, step.role),
    ...compactionField(run),
    ...(step.system === undefined ? {} : { system: renderText(step.system, scope) }),
    prompt: renderText(step.prompt, scope),
    ...(step.attach === undefined ? {} : { attachments: attachmentsOf(step.attach, scope, at.label) }),
    tools: allowedTools(run, step, at),
    maxTurns: step.maxTurns,
    ...(step.outputSchema === undefined ? {} : { outputSchema: step.outputSchema }),
    ...(step.thinking === undefined ? {} : { thinking: step.thinking }),
    ...(step.effort === undefined ? {} : { effort: step.effort }),
    ...(step.reasoningEffort === undefined ? {} : { reasoningEffort: step.reasoningEffort }),
    ...(budget === undefined ? {} : { budget }),
    ...(run.input.options === undefined ? {} : { options: run.input.options }),
    ...(step.toolLimits === undefined ? {} : { toolLimits: step.toolLimits }),
    ...(inputFiles === undefined ? {} : { inputFiles }),
    ...traceField(run.trace),
  };
  const result = AgentLoopOutput.parse(yield* callChild(run, Names.orchestrators.agentLoop, input, at));
  run.artifacts.push(...result.artifacts);
  addToolCalls(run.timeline, result.toolCalls);
  // Items of one map share a ledger row: the agent books under its label, the run under the step.
  recordChildLedger(
    run,
    result.ledger.rows.map((row) => ({ ...row, stepId: at.ledgerStep })),
    at,
  );
  switch (result.outcome) {
    case 'completed':
      return result.output;
    case 'budget_exceeded':
      throw budgetExceeded(at.label, result.error?.message ?? 'the agent ran out of budget');
    case 'max_turns':
      throw stepFailed(
        at.label,
        'max_turns',
        `the agent used all ${step.maxTurns} turns without a final answer; last text: ${JSON.stringify(result.text.slice(0, 300))}`,
      );
    case 'failed':
      throw childStepFailed(
        at.label,
        result.error?.kind,
        'agent_failed',
        result.error?.message ?? 'the agent failed',
      );
  }
}

function* runWorkflowStep(
  run: RunState,
  step: WorkflowCallStep,
  scope: ExpressionScope,
  at: StepAt,
): TaskGenerator<unknown> {
  const definition = run.input.workflows[step.workflow];
  if (!definition) {
    throw stepFailed(at.label, 'unknown_workflow', `workflow "${step.workflow}" was not passed to this run`);
  }
  const inheritedBudget = remainingBudget(run.ledger, run.budget);
  const input: RunWorkflowInput = {
    definition,
    input: evaluateTemplates(step.input, scope),
    workflows: run.input.workflows,
    tools: run.input.tools,
    rootRunId: run.runId,
    ...(inheritedBudget === undefined ? {} : { inheritedBudget }),
    ...(run.input.options === undefined ? {} : { options: run.input.options }),
    ...traceField(run.trace),
  };
  const result = RunWorkflowOutput.parse(yield* callChild(run, Names.orchestrators.runWorkflow, input, at));
  run.artifacts.push(...(result.artifacts ?? []));
  addToolCalls(run.timeline, childToolCalls(result.timeline));
  recordChildLedger(run, prefixRows(result.ledger.rows, at.ledgerStep), at);
  const childStep = result.error?.stepId === undefined ? at.label : `${at.label}/${result.error.stepId}`;
  const reason = `workflow "${step.workflow}": ${result.error?.message ?? result.outcome}`;
  switch (result.outcome) {
    case 'completed':
      return result.output;
    case 'budget_exceeded':
      throw budgetExceeded(childStep, reason);
    case 'failed':
      throw childStepFailed(childStep, result.error?.kind, 'child_failed', reason);
  }
}

function concurrencyOf(step: MapStep, scope: ExpressionScope, label: string): number {
  const value =
    typeof step.concurrency === 'number'
      ? step.concurrency
      : evaluate(compileExpression(step.concurrency), scope);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw stepFailed(
      label,
      'invalid_concurrency',
      `concurrency must be a whole number ≥ 1, got ${JSON.stringify(value)}`,
    );
  }
  return Math.min(value, MAX_MAP_CONCURRENCY);
}

function* runMapStep(
  run: RunState,
  step: MapStep,
  scope: ExpressionScope,
  at: StepAt,
): TaskGenerator<unknown> {
  const over = evaluate(compileExpression(step.over), scope);
  if (!Array.isArray(over)) {
    throw stepFailed(
      at.label,
      'invalid_map_input',
      `"over" must yield a list, got ${String(JSON.stringify(over)).slice(0, 100)}`,
    );
  }
  const items: readonly unknown[] = over;
  const total = items.length;
  const itemScope = (index: number): ExpressionScope => ({
    ...scope,
    locals: { ...scope.locals, [step.as]: items[index], index },
  });
  const itemLabel = (index: number) => `${at.label}:${index}`;
  reportProgress(run, { map: { stepId: at.label, done: 0, total } });

  // A batch step sends every enabled item in one provider batch: `concurrency` does not apply.
  if (step.step.kind === 'llm' && step.step.batch === true) {
    const itemStep = step.step;
    const scopes = items.map((_, index) => {
      const candidate = itemScope(index);
      return isEnabled(itemStep, candidate) ? candidate : undefined;
    });
    const outputs = yield* runLlmBatch(run, itemStep, scopes, at, itemLabel);
    reportProgress(run, { map: undefined });
    return outputs;
  }

  const limit = concurrencyOf(step, scope, at.label);
  function* runItem(index: number): TaskGenerator<unknown> {
    const candidate = itemScope(index);
    if (!isEnabled(step.step, candidate)) return null;
    return yield* runStep(run, step.step, candidate, { ledgerStep: at.ledgerStep, label: itemLabel(index) });
  }
  const outputs = yield* runWithConcurrency(run.context, total, limit, runItem, (done) =>
    reportProgress(run, { map: { stepId: at.label, done, total } }),
  );
  reportProgress(run, { map: undefined });
  return outputs;
}

const SKIPPED = Symbol('skipped branch');

function* runParallelStep(
  run: RunState,
  step: ParallelStep,
  scope: ExpressionScope,
  at: StepAt,
): TaskGenerator<unknown> {
  const branches = Object.entries(step.branches);
  function* runBranch(index: number): Generator<Task, unknown, unknown> {
    const [name, branch] = branches[index] ?? [];
    if (name === undefined || branch === undefined) throw new RangeError(`no branch ${index}`);
    if (!isEnabled(branch, scope)) return SKIPPED;
    const branchAt = { ledgerStep: `${at.ledgerStep}.${name}`, label: `${at.label}.${name}` };
    return yield* runStep(run, branch, scope, branchAt);
  }
  const outputs = yield* runWithConcurrency(run.context, branches.length, branches.length, runBranch);
  return Object.fromEntries(
    branches.flatMap(([name], index) => (outputs[index] === SKIPPED ? [] : [[name, outputs[index]]])),
  );
}
