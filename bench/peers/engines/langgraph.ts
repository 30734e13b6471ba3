import { entrypoint, task } from '@langchain/langgraph';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import path from 'node:path';
import { callModel, installedVersion, nowMs, range, type StartEngine } from '../common.js';

/**
 * LangGraph JS: the workloads in the Functional API (`entrypoint` + `task`), checkpointed by the
 * SQLite checkpointer to a file, with the default durability ("async": a step's checkpoint is
 * written while the next step runs; @langchain/langgraph dist/pregel/types.d.ts `durability`).
 *
 * Docs followed:
 * - Functional API, tasks called from an entrypoint, parallel tasks awaited together:
 *   https://docs.langchain.com/oss/javascript/langgraph/functional-api
 * - durable execution (tasks are the unit whose results are checkpointed; durability modes):
 *   https://docs.langchain.com/oss/javascript/langgraph/durable-execution
 * - SqliteSaver.fromConnString: https://reference.langchain.com/javascript/langchain-langgraph-checkpoint-sqlite
 * Each run gets its own thread_id, as the persistence docs require for a checkpointer.
 */
export const start: StartEngine = async (workDir) => {
  const checkpointer = SqliteSaver.fromConnString(path.join(workDir, 'checkpoints.sqlite'));

  const stamp = task('stamp', async (_i: number) => nowMs());
  const noop = task('noop', async (i: number) => i);
  const model = task('callModel', (url: string, turn: number) => callModel(url, turn));

  const sequence = entrypoint({ name: 'sequence', checkpointer }, async (steps: number) => {
    const stamps: number[] = [];
    for (let i = 0; i < steps; i++) stamps.push(await stamp(i));
    return stamps;
  });
  const fanOut = entrypoint({ name: 'fanOut', checkpointer }, async (width: number) => {
    const results = await Promise.all(range(width).map((i) => noop(i)));
    return results.length;
  });
  const fiveSteps = entrypoint({ name: 'fiveSteps', checkpointer }, async (steps: number) => {
    for (let i = 0; i < steps; i++) await noop(i);
    return steps;
  });
  const agent = entrypoint({ name: 'agent', checkpointer }, async (input: { url: string; calls: number }) => {
    const replies: string[] = [];
    for (let turn = 0; turn < input.calls; turn++) replies.push(await model(input.url, turn));
    return replies.length;
  });

  const thread = (id: string) => ({ configurable: { thread_id: id } });
  return {
    versions: {
      '@langchain/langgraph': installedVersion('@langchain/langgraph'),
      '@langchain/langgraph-checkpoint-sqlite': installedVersion('@langchain/langgraph-checkpoint-sqlite'),
    },
    sequence: async (steps, runId) => await sequence.invoke(steps, thread(`seq-${runId}`)),
    fanOut: async (width, runId) => await fanOut.invoke(width, thread(`fan-${runId}`)),
    async many(runs, steps, runId) {
      const outputs = await Promise.all(
        range(runs).map((i) => fiveSteps.invoke(steps, thread(`many-${runId}-${i}`))),
      );
      if (outputs.some((o) => o !== steps)) throw new Error('a five-step run returned the wrong count');
    },
    async agent(runs, calls, modelUrl, runId) {
      const outputs = await Promise.all(
        range(runs).map((i) => agent.invoke({ url: modelUrl, calls }, thread(`agent-${runId}-${i}`))),
      );
      if (outputs.some((o) => o !== calls)) throw new Error('an agent run returned the wrong count');
    },
    stop: async () => {},
  };
};
