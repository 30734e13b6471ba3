/**
 * Waits for a set of batch tasks where a failing one must never stop the others.
 *
 * The tasks are yielded together as one `Task.all` over fresh tasks (never a task already yielded inside
 * another composite: azure-functions-durable-js#574). `Task.all` fails fast, so when it faults, each task
 * is yielded again on its own: re-yielding an atomic task schedules nothing new, it only waits for the
 * task's own result or failure.
 */
import type { OrchestrationContext, Task } from 'durable-functions';

export type ItemOutcome = { ok: true; value: unknown } | { ok: false; message: string };

/** The first line of what a task threw, short enough for a result line. */
export function failureMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.slice(0, 500) ?? '';
}

/** Yields every task and hands `settle(i, outcome)` each one's result or failure, in order. */
export function* settleAll(
  context: OrchestrationContext,
  tasks: readonly Task[],
  settle: (index: number, outcome: ItemOutcome) => void,
): Generator<Task, void, unknown> {
  if (tasks.length === 0) return;
  let values: unknown[] | undefined;
  try {
    values = (yield context.df.Task.all([...tasks])) as unknown[];
  } catch {
    values = undefined;
  }
  if (values !== undefined) {
    values.forEach((value, index) => settle(index, { ok: true, value }));
    return;
  }
  for (const [index, task] of tasks.entries()) {
    try {
      settle(index, { ok: true, value: yield task });
    } catch (error) {
      settle(index, { ok: false, message: failureMessage(error) });
    }
  }
}
