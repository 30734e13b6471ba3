/**
 * runBatchLane: one lane of a batch page. A page splits its items over `concurrency` lanes, and each lane
 * runs its items one after another as `runWorkflow` children, so a lane starts its next item the moment
 * the previous one ends: a sliding window without ever yielding a task twice (azure-functions-durable-js#574).
 * A failing item is a result, never the lane's failure.
 *
 * Every episode hands the durable runtime all the actions of its generation, child inputs included, so a
 * lane continues as new every few items, carrying the outcomes so far: the work per item stays flat
 * however long the lane, and pages can be long enough that lanes seldom wait for each other at page ends.
 * An outcome is the status, cost and error of an item, not its output: that stays with the item's run,
 * and the page reads it back when it writes its results.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  BatchLaneInput,
  itemInstanceId,
  type BatchItemOutcome,
  type BatchLaneOutput,
  type BatchLaneProgress,
  type RunTemplate,
} from '../shared/batchJobTypes.js';
import { Names } from '../shared/names.js';
import { RunResultSummary, type RunErrorOf, type RunWorkflowInput } from '../shared/runTypes.js';
import { failureMessage } from './settleAll.js';
import { parseOrchestrationInput } from './runStopped.js';

/** Deals items to `laneCount` lanes in turn, so every lane gets a near-equal share in line order. */
export function dealToLanes<T>(items: readonly T[], laneCount: number): T[][] {
  const lanes = Array.from({ length: Math.min(laneCount, items.length) }, (): T[] => []);
  items.forEach((item, index) => lanes[index % lanes.length]?.push(item));
  return lanes;
}

/** Items a lane runs per orchestration generation before it continues as new. */
export const LANE_ITEMS_PER_GENERATION = 8;

export function* runBatchLaneOrchestrator(
  context: OrchestrationContext,
): Generator<Task, BatchLaneOutput, unknown> {
  const input = parseOrchestrationInput(
    BatchLaneInput,
    context.df.getInput(),
    Names.orchestrators.runBatchLane,
  );
  const outcomes: BatchItemOutcome[] = [...(input.outcomes ?? [])];
  const progress: BatchLaneProgress = { kind: 'batchLane', done: 0, failed: 0, costUsd: 0 };
  const count = (outcome: BatchItemOutcome) => {
    progress.done += 1;
    if (outcome.status === 'failed') progress.failed += 1;
    progress.costUsd += outcome.costUsd;
  };
  outcomes.forEach(count);
  context.df.setCustomStatus(progress);
  for (const [index, item] of input.items.entries()) {
    if (index === LANE_ITEMS_PER_GENERATION) {
      context.df.continueAsNew({ ...input, items: input.items.slice(index), outcomes });
      return [];
    }
    const outcome = yield* runItem(context, input.run, input.batchId, item.line, item.input);
    outcomes.push(outcome);
    count(outcome);
    // The batch's run view adds these up while the page runs (GET /api/runs/{batchId}).
    context.df.setCustomStatus(progress);
  }
  return outcomes;
}

function* runItem(
  context: OrchestrationContext,
  run: RunTemplate,
  batchId: string,
  line: number,
  itemInput: unknown,
): Generator<Task, BatchItemOutcome, unknown> {
  const childInput: RunWorkflowInput = { ...run, input: itemInput };
  try {
    const value: unknown = yield context.df.callSubOrchestrator(
      Names.orchestrators.runWorkflow,
      childInput,
      itemInstanceId(batchId, line),
    );
    return itemOutcome(line, value);
  } catch (error) {
    const message = failureMessage(error);
    return {
      line,
      status: 'failed',
      error: { kind: 'run_crashed', message } satisfies RunErrorOf,
      costUsd: 0,
    };
  }
}

function itemOutcome(line: number, value: unknown): BatchItemOutcome {
  const parsed = RunResultSummary.safeParse(value);
  if (!parsed.success) {
    const message = 'the run returned something that is not a runWorkflow result';
    return {
      line,
      status: 'failed',
      error: { kind: 'invalid_result', message } satisfies RunErrorOf,
      costUsd: 0,
    };
  }
  const result = parsed.data;
  const costUsd = result.ledger.totals.costUsd;
  if (result.outcome === 'completed') return { line, status: 'succeeded', costUsd };
  return {
    line,
    status: 'failed',
    error: result.error ?? { kind: result.outcome, message: `the run ended ${result.outcome}` },
    costUsd,
  };
}
