/**
 * The two durable-functions 3.5 modules the replayer reaches past the package's typings (the package has
 * no `exports` map, so they resolve like any file of it). Pinned by test/replay/sdkNumbering.test.ts.
 */
declare module 'durable-functions/lib/src/util/testingUtils.js' {
  import type { InvocationContext } from '@azure/functions';
  import type { OrchestrationHandler } from 'durable-functions';
  /** What `df.app.orchestration(name, handler)` registers as the function's handler (lib/src/app.js). */
  export function createOrchestrator(
    fn: OrchestrationHandler,
  ): (orchestrationTrigger: unknown, context: InvocationContext) => Promise<unknown>;
}

declare module 'durable-functions/lib/src/orchestrations/TaskOrchestrationExecutor.js' {
  export class TaskOrchestrationExecutor {
    trackOpenTask(task: unknown): void;
  }
}
