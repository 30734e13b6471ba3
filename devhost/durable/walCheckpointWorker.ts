/**
 * The checkpointing thread of walCheckpointer.ts. It blocks on shared memory instead of waiting for
 * messages: it sleeps until the store has committed since the last checkpoint, checkpoints, and waits
 * at least `paceMs` before the next, so an idle host costs it nothing.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { Slot, type CheckpointWorkerData, type CheckpointWorkerMessage } from './walCheckpointer.js';

const { dbPath, shared, paceMs, truncateAtBytes } = workerData as CheckpointWorkerData;
const slots = new Int32Array(shared);
const post = (message: CheckpointWorkerMessage) => parentPort?.postMessage(message);

/** The row `PRAGMA wal_checkpoint` answers, as far as it is read here: the frames in the WAL. */
interface CheckpointResult {
  log: number;
}

const db = new Database(dbPath);
try {
  db.pragma('busy_timeout = 5000');
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  let seen = 0;
  for (;;) {
    Atomics.wait(slots, Slot.Commits, seen);
    if (Atomics.load(slots, Slot.Stop) === 1) break;
    seen = Atomics.load(slots, Slot.Commits);
    const [passive] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    if (passive && passive.log * pageSize >= truncateAtBytes) db.pragma('wal_checkpoint(TRUNCATE)');
    Atomics.wait(slots, Slot.Pace, 0, paceMs);
  }
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
} finally {
  db.close();
}
