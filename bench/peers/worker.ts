import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Engine, StartEngine, WorkloadName } from './common.js';
import { SIZES } from './common.js';

/**
 * One engine in a process of its own (plus whatever processes the engine starts), so run.ts can
 * measure the CPU and memory of exactly that engine. Driven over the IPC channel by run.ts.
 */
export type ToWorker =
  { type: 'run'; workload: WorkloadName; runId: string; scale: number; modelUrl: string } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; versions: Record<string, string> }
  | { type: 'failed'; message: string }
  | { type: 'result'; wallMs: number; stamps?: number[] }
  | { type: 'error'; message: string }
  | { type: 'stopped' };

// Node 22 has Promise.withResolvers (ES2024) and the app asks for Node >= 22 (package.json engines);
// on an older Node, @restatedev/restate-sdk 1.17 fails every invocation without it. Same semantics:
// https://developer.mozilla.org/docs/Web/JavaScript/Reference/Global_Objects/Promise/withResolvers
const promiseStatics = Promise as unknown as Record<string, unknown>;
if (typeof promiseStatics.withResolvers !== 'function') {
  promiseStatics.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const ENGINES: Record<string, () => Promise<{ start: StartEngine }>> = {
  'durable-agents': () => import('./engines/durableAgents.js'),
  restate: () => import('./engines/restate.js'),
  dbos: () => import('./engines/dbos.js'),
  langgraph: () => import('./engines/langgraph.js'),
};

function send(message: FromWorker): void {
  process.send?.(message);
}

/** Runs one workload; `scale` < 1 shrinks it for the warm-up. Checks what the workflows returned. */
async function runWorkload(engine: Engine, m: Extract<ToWorker, { type: 'run' }>): Promise<FromWorker> {
  const size = (n: number) => Math.max(1, Math.round(n * m.scale));
  const began = performance.now();
  let stamps: number[] | undefined;
  switch (m.workload) {
    case 'sequence': {
      const steps = size(SIZES.sequenceSteps);
      stamps = await engine.sequence(steps, m.runId);
      if (!Array.isArray(stamps) || stamps.length !== steps)
        throw new Error(`sequence returned ${stamps?.length} stamps, not ${steps}`);
      break;
    }
    case 'fanOut': {
      const width = size(SIZES.fanOutWidth);
      const joined = await engine.fanOut(width, m.runId);
      if (joined !== width) throw new Error(`fan-out joined ${joined} of ${width} steps`);
      break;
    }
    case 'many':
      await engine.many(size(SIZES.manyRuns), SIZES.manySteps, m.runId);
      break;
    case 'agent':
      await engine.agent(size(SIZES.agentRuns), SIZES.agentCalls, m.modelUrl, m.runId);
      break;
  }
  return { type: 'result', wallMs: performance.now() - began, stamps };
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const load = ENGINES[name];
  if (!load) throw new Error(`unknown engine "${name}"; known: ${Object.keys(ENGINES).join(', ')}`);
  const workDir = mkdtempSync(path.join(tmpdir(), `bench-peers-${name}-`));
  let engine: Engine;
  try {
    engine = await (await load()).start(workDir);
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    rmSync(workDir, { recursive: true, force: true });
    process.exit(0);
  }
  send({ type: 'ready', versions: engine.versions });
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stop') {
      void engine
        .stop()
        .catch(() => {})
        .finally(() => {
          rmSync(workDir, { recursive: true, force: true });
          send({ type: 'stopped' });
          process.exit(0);
        });
      return;
    }
    runWorkload(engine, message)
      .then(send)
      .catch((error: unknown) =>
        send({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
      );
  });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
