/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that crosses
 * its threshold (1,000 pages), and with `synchronous=NORMAL` it syncs the WAL and the database file
 * there: under load that stalled the host's event loop for 5–10 ms several times a second. The store
 * turns automatic checkpoints off, and a worker thread with its own connection checkpoints soon after
 * commits instead (walCheckpointWorker.ts). Durability is unchanged: the same checkpoints, with the same
 * syncs, only on another thread.
 *
 * A PASSIVE checkpoint never blocks the writer, but the WAL only starts over when a writer finds it fully
 * checkpointed, which steady commits can keep from happening; once the WAL passes `truncateAtBytes`, one
 * TRUNCATE checkpoint (which holds off the writer briefly) starts it over and shrinks the file.
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../workerScript.js';

/** The shared Int32 slots the two threads use. */
export const Slot = { Commits: 0, Stop: 1, Pace: 2 } as const;

export interface CheckpointWorkerData {
  dbPath: string;
  shared: SharedArrayBuffer;
  paceMs: number;
  truncateAtBytes: number;
}

export type CheckpointWorkerMessage = { type: 'failed'; message: string };

export interface WalCheckpointerOptions {
  /** Least time between two checkpoints while commits keep coming (default 20 ms). */
  paceMs?: number;
  /** WAL size above which a checkpoint also starts the WAL over and truncates it (default 256 MiB). */
  truncateAtBytes?: number;
  /** Called if the thread fails; the store then goes back to SQLite's automatic checkpoints. */
  onFailure: (message: string) => void;
}

export const DEFAULT_CHECKPOINT_PACE_MS = 20;
export const DEFAULT_TRUNCATE_AT_BYTES = 256 * 1024 * 1024;

const WORKER_SCRIPT = workerScript(__filename, 'walCheckpointWorker');

export class WalCheckpointer {
  readonly #slots = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  constructor(dbPath: string, options: WalCheckpointerOptions) {
    const data: CheckpointWorkerData = {
      dbPath,
      shared: this.#slots.buffer,
      paceMs: options.paceMs ?? DEFAULT_CHECKPOINT_PACE_MS,
      truncateAtBytes: options.truncateAtBytes ?? DEFAULT_TRUNCATE_AT_BYTES,
    };
    this.#worker = new Worker(WORKER_SCRIPT, { workerData: data });
    let failed = false;
    const fail = (message: string) => {
      if (failed || Atomics.load(this.#slots, Slot.Stop) === 1) return;
      failed = true;
      options.onFailure(message);
    };
    this.#worker.on('message', (message: CheckpointWorkerMessage) => fail(message.message));
    this.#worker.on('error', (error) => fail(error.message));
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', (code) => {
        fail(`the checkpoint thread exited (code ${code})`);
        resolve();
      }),
    );
    // A store never kept its process alive, and its checkpoint thread does not either, until stop() waits
    // for it. After the listeners: adding a 'message' listener refs the worker's port again.
    this.#worker.unref();
  }

  /** The store committed: wakes the thread if it is waiting for commits. */
  committed(): void {
    Atomics.add(this.#slots, Slot.Commits, 1);
    Atomics.notify(this.#slots, Slot.Commits);
  }

  /** Lets a checkpoint in progress finish, closes the thread's connection and waits for the thread. */
  stop(): Promise<void> {
    this.#worker.ref();
    Atomics.store(this.#slots, Slot.Stop, 1);
    Atomics.add(this.#slots, Slot.Commits, 1);
    Atomics.notify(this.#slots, Slot.Commits);
    Atomics.notify(this.#slots, Slot.Pace);
    return this.#exited;
  }
}
