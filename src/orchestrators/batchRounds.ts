/**
 * Bounded concurrency for batch items where a failing item must never stop the others.
 *
 * Up to `limit` item tasks are yielded together as one `Task.all` over fresh tasks (never a task already
 * yielded inside another composite: azure-functions-durable-js#574). `Task.all` fails fast, so when a round
 * faults, each of its tasks is yielded again on its own: re-yielding an atomic task schedules nothing new,
 * it only waits for the task's own result or failure.
 */
import type { OrchestrationContext, Task } from 'durable-functions';

export type ItemOutcome = { ok: true; value: unknown } | { ok: false; message: string };

function failureMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.slice(0, 500) ?? '';
}

/**
 * Runs `count` items, `limit` at a time: `start(i)` schedules item i's one task, `settle(i, outcome)`
 * receives its result or failure, and `afterRound` runs after every round.
 */
export function* runItemsInRounds(
  context: OrchestrationContext,
  count: number,
  limit: number,
  start: (index: number) => Task,
  settle: (index: number, outcome: ItemOutcome) => void,
  afterRound?: () => void,
): Generator<Task, void, unknown> {
  for (let first = 0; first < count; first += limit) {
    const round = Array.from({ length: Math.min(limit, count - first) }, (_, offset) => ({
      index: first + offset,
      task: start(first + offset),
    }));
    let values: unknown[] | undefined;
    try {
      values = (yield context.df.Task.all(round.map((lane) => lane.task))) as unknown[];
    } catch {
      values = undefined;
    }
    if (values !== undefined) {
      round.forEach((lane, position) => settle(lane.index, { ok: true, value: values[position] }));
    } else {
      for (const lane of round) {
        try {
          settle(lane.index, { ok: true, value: yield lane.task });
        } catch (error) {
          settle(lane.index, { ok: false, message: failureMessage(error) });
        }
      }
    }
    afterRound?.();
  }
}
