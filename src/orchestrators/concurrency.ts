/**
 * Bounded concurrency for orchestrator generators, without ever yielding a task twice
 * (durable-functions 3.x may schedule it again: azure-functions-durable-js#574).
 *
 * Up to `limit` item generators run in lockstep rounds: each round yields one `Task.all` over the
 * task every running item is waiting on, all of them new. When an item finishes, the next item
 * starts in the following round. Items that take similar time (the common case: one model call or
 * one sub-orchestration each) finish in ceil(n / limit) rounds, the same wall time as a sliding
 * window; an item that needs a retry holds only its own slot, not a whole wave.
 */
import type { OrchestrationContext, Task } from 'durable-functions';

export type TaskGenerator<T> = Generator<Task, T, unknown>;

interface Lane<T> {
  readonly index: number;
  readonly generator: TaskGenerator<T>;
  task: Task;
}

/**
 * Runs `count` items, at most `limit` at a time, and returns their results in item order.
 * `onRound` is called after every round with how many items have finished.
 *
 * A fault in a round (a task that threw) is thrown into the item that owns the task, so it can
 * turn it into a typed failure; the round's other tasks are abandoned and the fault ends the whole
 * run of items.
 */
export function* runWithConcurrency<T>(
  context: OrchestrationContext,
  count: number,
  limit: number,
  start: (index: number) => TaskGenerator<T>,
  onRound?: (finished: number) => void,
): TaskGenerator<T[]> {
  const results = new Array<T>(count);
  let lanes: Lane<T>[] = [];
  let started = 0;
  let finished = 0;

  const advance = (index: number, generator: TaskGenerator<T>, step: IteratorResult<Task, T>) => {
    if (step.done) {
      results[index] = step.value;
      finished += 1;
    } else {
      lanes.push({ index, generator, task: step.value });
    }
  };

  for (;;) {
    while (lanes.length < limit && started < count) {
      const index = started++;
      const generator = start(index);
      advance(index, generator, generator.next());
    }
    if (lanes.length === 0) return results;

    const round = lanes;
    lanes = [];
    let values: unknown[];
    try {
      values = (yield context.df.Task.all(round.map((lane) => lane.task))) as unknown[];
    } catch (error) {
      const owner = round.find((lane) => lane.task.isFaulted);
      owner?.generator.throw(error);
      throw error;
    }
    round.forEach((lane, position) =>
      advance(lane.index, lane.generator, lane.generator.next(values[position])),
    );
    onRound?.(finished);
  }
}
