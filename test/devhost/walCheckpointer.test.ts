import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DurableStore } from '../../devhost/durable/store.js';

const walSize = (dir: string) => {
  const wal = path.join(dir, 'durable.sqlite-wal');
  return existsSync(wal) ? statSync(wal).size : 0;
};

/** Commits `count` groups of messages of `bytes` each, one group per turn, as an engine under load does. */
async function commitMessages(store: DurableStore, count: number, bytes: number): Promise<void> {
  const event = JSON.stringify({ padding: 'x'.repeat(bytes) });
  for (let i = 0; i < count; i++) {
    await store.groupTx(() => store.q.insertMessage.run(`instance-${i}`, null, 0, event, null));
  }
}

describe('DurableStore WAL checkpoints on a worker thread', () => {
  let dir: string | undefined;
  let store: DurableStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('turns SQLite automatic checkpoints off, and the thread starts the WAL over once it passes the limit', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wal-checkpoints-'));
    const limit = 256 * 1024;
    const s = (store = new DurableStore(dir, { checkpoints: { paceMs: 1, truncateAtBytes: limit } }));
    expect(s.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    // About 4 MB of commits: without checkpoints the WAL would hold all of it.
    await commitMessages(s, 400, 10_000);
    // The checkpoint thread truncates the WAL soon after it passes the limit.
    await vi.waitFor(() => expect(walSize(dir ?? '')).toBeLessThan(limit), { timeout: 10_000, interval: 10 });
    const rows = s.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number };
    expect(rows.n).toBe(400);
  });

  it('keeps every commit across close and reopen, and the last connection to close removes the WAL', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wal-checkpoints-'));
    const s = new DurableStore(dir);
    await commitMessages(s, 50, 2_000);
    await s.close();
    expect(existsSync(path.join(dir, 'durable.sqlite-wal'))).toBe(false);
    store = new DurableStore(dir);
    const rows = store.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number };
    expect(rows.n).toBe(50);
  });

  it('does not keep the process alive when a store is left open', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wal-checkpoints-'));
    // The compiled store, as the checkpoint thread itself is (npm test builds first).
    const storeModule = path.resolve(__dirname, '../../dist/devhost/durable/store.js');
    const script = `const { DurableStore } = require(${JSON.stringify(storeModule)});
      new DurableStore(${JSON.stringify(dir)}); console.log('opened');`;
    const printed = execFileSync(process.execPath, ['-e', script], { timeout: 10_000, encoding: 'utf8' });
    expect(printed.trim()).toBe('opened');
  });

  it('leaves checkpoints to SQLite when background checkpoints are off', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wal-checkpoints-'));
    store = new DurableStore(dir, { backgroundCheckpoints: false });
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });
});
