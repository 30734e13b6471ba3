import path from 'node:path';
import { installedVersion, peersDir, repoRoot, type StartEngine } from '../common.js';

/**
 * durable-agents: the durable-functions app in apps/durable-agents on devhost, in this process as
 * bench/run.ts runs it (host thread: HTTP, durable engine, SQLite; app: its language worker thread).
 *
 * The shape below is the part of devhost/host.ts that the bench uses. bench/peers is its own
 * TypeScript project (so the app's typecheck never sees the peers' packages); it loads devhost
 * from the app's build output, which `npm run bench:peers` builds first.
 */
interface InstanceStatus {
  runtimeStatus: string;
  output?: unknown;
}
interface DevHost {
  url: string;
  backend: {
    start(request: { orchestratorName: string; input: unknown; instanceId: string }): { kind: string };
    getStatus(id: string): InstanceStatus | undefined;
  };
  stop(): Promise<void>;
}
interface DevHostModule {
  startDevHost(options: {
    appDir: string;
    port: number;
    stateDir: string;
    azurite: 'off';
    log: () => void;
  }): Promise<DevHost>;
}

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated']);

export const start: StartEngine = async (workDir) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the app's build output, see above
  const { startDevHost } = require(path.join(repoRoot, 'dist/devhost/host.js')) as DevHostModule;
  const host = await startDevHost({
    appDir: path.join(peersDir, 'apps/durable-agents'),
    port: 0,
    stateDir: path.join(workDir, 'state'),
    azurite: 'off',
    log: () => {},
  });

  const startOne = (orchestratorName: string, input: unknown, instanceId: string) => {
    const outcome = host.backend.start({ orchestratorName, input, instanceId });
    if (outcome.kind !== 'started') throw new Error(`could not start ${orchestratorName}: ${outcome.kind}`);
    return instanceId;
  };

  /** Waits for the instances in start order: one status read per 5 ms while the oldest still runs. */
  const waitAll = async (ids: string[]): Promise<unknown[]> => {
    const outputs: unknown[] = [];
    const deadline = Date.now() + 300_000;
    for (const id of ids) {
      for (;;) {
        const status = host.backend.getStatus(id);
        if (status && TERMINAL.has(status.runtimeStatus)) {
          if (status.runtimeStatus !== 'Completed') {
            throw new Error(`${id} ended ${status.runtimeStatus}: ${JSON.stringify(status.output)}`);
          }
          outputs.push(status.output);
          break;
        }
        if (Date.now() > deadline)
          throw new Error(`${id} still ${status?.runtimeStatus ?? 'unknown'} after 300 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    return outputs;
  };

  return {
    versions: {
      'durable-agents': installedVersion('.', repoRoot),
      'durable-functions': installedVersion('durable-functions', path.join(repoRoot, 'node_modules')),
    },
    async sequence(steps, runId) {
      const [stamps] = await waitAll([startOne('sequence', steps, `seq-${runId}`)]);
      return stamps as number[];
    },
    async fanOut(width, runId) {
      const [joined] = await waitAll([startOne('fanOut', width, `fan-${runId}`)]);
      return joined as number;
    },
    async many(runs, steps, runId) {
      // Started over the Durable HTTP API, as bench/run.ts (c) does and as a client outside the app would.
      const ids = Array.from({ length: runs }, (_, i) => `many-${runId}-${i}`);
      const responses = await Promise.all(
        ids.map((id) =>
          fetch(`${host.url}/durabletask/orchestrators/fiveSteps/${id}`, {
            method: 'POST',
            body: String(steps),
          }),
        ),
      );
      const refused = responses.find((r) => r.status !== 202);
      if (refused) throw new Error(`a start answered HTTP ${refused.status}: ${await refused.text()}`);
      const outputs = await waitAll(ids);
      if (outputs.some((o) => o !== steps)) throw new Error('a five-step run returned the wrong count');
    },
    async agent(runs, calls, modelUrl, runId) {
      const ids = Array.from({ length: runs }, (_, i) =>
        startOne('agent', { url: modelUrl, calls }, `agent-${runId}-${i}`),
      );
      const outputs = await waitAll(ids);
      if (outputs.some((o) => o !== calls)) throw new Error('an agent run returned the wrong count');
    },
    stop: () => host.stop(),
  };
};
