/** Helpers the entry-point benchmarks share: the ticket input, waiting on runs, CPU time. */
import type { DevHost } from '../devhost/host.js';

export const MODEL_LATENCY_MS = 50;
export const BATCH_CONCURRENCY = 32;

export const ticket = (i: number) => ({ subject: `Ticket ${i}`, body: `Order ${i} arrived damaged.` });

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The benchmarks run in the host's process and poll its store on the host's own thread, which a remote
 * caller would not: waits of seconds poll every `LONG_WAIT_POLL_MS`, so the polling itself stays out of
 * what is measured; only the single-item timing, a wait of milliseconds on an idle host, polls every 2 ms.
 */
export const LONG_WAIT_POLL_MS = 20;

export async function waitUntil(
  check: () => boolean,
  timeoutMs: number,
  what: string,
  everyMs = LONG_WAIT_POLL_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const isDone = (host: DevHost, id: string) => {
  const status = host.backend.getStatus(id, { showInput: false })?.runtimeStatus;
  if (status === 'Failed' || status === 'Terminated') throw new Error(`${id} ended ${status}`);
  return status === 'Completed';
};

/** Waits until `ready` holds for every id, reading only the ids still pending (see `LONG_WAIT_POLL_MS`). */
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
    await sleep(LONG_WAIT_POLL_MS);
  }
}

/** CPU time of this process; kept here for the files that import it from this module. */
export { cpuMsSince } from './measure.js';
