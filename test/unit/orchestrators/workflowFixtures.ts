import { agentLoopOrchestrator } from '../../../src/orchestrators/agentLoop.js';
import { runWorkflowOrchestrator } from '../../../src/orchestrators/runWorkflow.js';
import { RunFailed } from '../../../src/orchestrators/runStopped.js';
import type { AgentLoopOutput, RunWorkflowInput, RunWorkflowOutput } from '../../../src/shared/runTypes.js';
import { FakeOrchestrationContext, drive, type FakeTask } from '../../fakes/orchestrationContext.js';
import { NOW, runtime, type Observed, type Script } from './scriptedRuntime.js';

/** A definition as it would come from YAML (defaults are filled in when the orchestrator parses it). */
export function definition(steps: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test-flow',
    version: '1.0.0',
    description: 'A workflow under test',
    input: { type: 'object' },
    output: (steps.at(-1) as { id: string }).id,
    steps,
    ...extra,
  };
}

export const TOOLS = {
  web_search: { name: 'web_search', description: 'Search the web', inputSchema: { type: 'object' } },
  run_code: { name: 'run_code', description: 'Run code', inputSchema: { type: 'object' } },
};

export function runInput(
  def: Record<string, unknown>,
  input: unknown = {},
  extra: Partial<Record<keyof RunWorkflowInput, unknown>> = {},
) {
  return { definition: def, input, tools: TOOLS, ...extra };
}

export interface WorkflowRun {
  /** What the run returned or, for a run that failed (`failed`), the result its `RunFailed` carries. */
  readonly output: RunWorkflowOutput;
  /** The run threw `RunFailed`: its runtime status would be `Failed`. */
  readonly failed: boolean;
  readonly context: FakeOrchestrationContext;
  readonly observed: Observed;
}

/**
 * Runs `runWorkflow` as a top-level run (or, with `parentInstanceId`, as a child run). A top-level run that
 * does not complete must throw `RunFailed` (runtime status Failed), never return its outcome: checked here
 * for every test.
 */
export function runWorkflow(
  input: unknown,
  script: Script,
  instanceId = 'run-1',
  parentInstanceId?: string,
): WorkflowRun {
  const context = new FakeOrchestrationContext(input, NOW, instanceId, parentInstanceId);
  const observed: Observed = { rounds: [], races: [], models: [], saves: [] };
  const settled = settleRun(
    () => drive(runWorkflowOrchestrator, context, runtime(script, observed)),
    parentInstanceId === undefined,
  );
  return { ...settled, context, observed };
}

/** Drives a run to its end: what it returned, or the result of the `RunFailed` it threw (checked, see above). */
export function settleRun(
  drive: () => RunWorkflowOutput,
  topLevel: boolean,
): { output: RunWorkflowOutput; failed: boolean } {
  let output: RunWorkflowOutput;
  let failed = false;
  try {
    output = drive();
  } catch (error) {
    if (!(error instanceof RunFailed)) throw error;
    output = error.result;
    failed = true;
  }
  if (topLevel && output.outcome !== 'completed' && !failed) {
    throw new Error(`a top-level run returned outcome ${output.outcome} instead of failing`);
  }
  if ((!topLevel || output.outcome === 'completed') && failed) {
    throw new Error(`a ${topLevel ? 'completed' : 'child'} run threw RunFailed`);
  }
  return { output, failed };
}

export interface AgentRun {
  readonly output: AgentLoopOutput | undefined;
  readonly context: FakeOrchestrationContext;
  readonly observed: Observed;
}

/** `version`: the instance's orchestration version; '' for one started before versioning (default: the newest). */
export function runAgent(
  input: unknown,
  script: Script,
  instanceId = 'run-1:agent',
  version?: string,
): AgentRun {
  const context = new FakeOrchestrationContext(input, NOW, instanceId, undefined, version);
  const observed: Observed = { rounds: [], races: [], models: [], saves: [], appends: [] };
  const output = drive(agentLoopOrchestrator, context, runtime(script, observed));
  return { output, context, observed };
}

/** Runs child orchestrations for real, on their own fake contexts, with the same script. */
export function realChildren(script: Script): (task: FakeTask) => unknown {
  const child = (task: FakeTask): unknown => {
    const nested = { ...script, child };
    const id = task.instanceId ?? 'child';
    return task.name === 'agentLoop'
      ? runAgent(task.input, nested, id).output
      : runWorkflow(task.input, nested, id, 'parent').output;
  };
  return child;
}
