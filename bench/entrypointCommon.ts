/** Helpers the entry-point benchmarks share: the ticket input, waiting on runs, CPU time. */
import type { DevHost } from '../devhost/host.js';

export const MODEL_LATENCY_MS = 50;
export const BATCH_CONCURRENCY = 32;

export const ticket = (i: number) => ({ subject: `Ticket ${i}`, body: `Order ${i} arrived damaged.` });

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

export const isDone = (host: DevHost, id: string) => {
  const status = host.backend.getStatus(id)?.runtimeStatus;
  if (status === 'Failed' || status === 'Terminated') throw new Error(`${id} ended ${status}`);
  return status === 'Completed';
};

/**
 * Waits until `ready` holds for every id, reading only the ids still pending: the benchmark shares the
 * host's thread, and re-reading a thousand finished runs every few milliseconds would slow the host.
 */
export async function waitForEach(
  ids: readonly string[],
  ready: (id: string) => boolean,
  what: string,
): Promise<void> {
  const pending = new Set(ids);
  const deadline = Date.now() + 300_000;
  while (pending.size > 0) {
    for (const id of pending) if (ready(id)) pending.delete(id);
    if (pending.size === 0) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${pending.size} not done)`);
    await sleep(5);
  }
}

/** CPU milliseconds this process (host thread and language workers) used since `since`. */
export const cpuMsSince = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
