/**
 * One host per state directory: `<stateDir>/host.lock` holds the owner's pid from start to stop. Two hosts
 * on one SQLite store and one Azurite data dir would both dispatch the same work items and lease the same
 * queue messages, so a second host refuses to start and names the directory and the holder.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'host.lock';

export interface StateLock {
  readonly file: string;
  release(): void;
}

interface LockRecord {
  readonly pid: number;
  readonly startedAt: string;
}

function readRecord(file: string): LockRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockRecord>;
    return typeof record.pid === 'number'
      ? { pid: record.pid, startedAt: String(record.startedAt) }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (signal 0 checks without signalling; EPERM means it exists). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class StateDirInUseError extends Error {
  constructor(
    readonly stateDir: string,
    readonly holderPid: number,
    startedAt: string,
  ) {
    super(
      `The state directory ${stateDir} is in use by another host (pid ${holderPid}, started ${startedAt}). ` +
        `Stop that host, or give this one its own directory with --state <dir> (stateDir in the API). ` +
        `If pid ${holderPid} is not a devhost, delete ${path.join(stateDir, LOCK_FILE)}.`,
    );
    this.name = 'StateDirInUseError';
  }
}

/**
 * Takes the lock of `stateDir` (which must exist), or throws `StateDirInUseError` when a live process holds
 * it. A lock left by a process that is gone (killed, crashed) is taken over.
 */
export function lockStateDir(stateDir: string): StateLock {
  const file = path.join(stateDir, LOCK_FILE);
  const record: LockRecord = { pid: process.pid, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readRecord(file);
      if (holder && isAlive(holder.pid)) throw new StateDirInUseError(stateDir, holder.pid, holder.startedAt);
      unlinkSync(file); // stale (its process is gone) or unreadable: take it over
      continue;
    }
    writeSync(fd, JSON.stringify(record));
    closeSync(fd);
    let released = false;
    return {
      file,
      release() {
        if (released) return;
        released = true;
        if (readRecord(file)?.pid === process.pid) unlinkSync(file);
      },
    };
  }
  throw new Error(`Could not take the lock ${file}: another host keeps creating it.`);
}
