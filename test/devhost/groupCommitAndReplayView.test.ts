import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventType, makeEvent, replayText, replayView } from '../../devhost/durable/history.js';
import { DurableStore, storeFile } from '../../devhost/durable/store.js';
import { openEngine, type EngineHandle } from './engineHarness.js';

describe('DurableStore.groupTx', () => {
  let dir: string | undefined;
  let store: DurableStore | undefined;
  afterEach(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const messageCount = (s: DurableStore) =>
    (s.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;

  it('commits the writes of one turn together; a throwing write rolls back only itself', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'group-commit-'));
    const s = (store = new DurableStore(dir));
    const insert = (id: string) => s.q.insertMessage.run(id, null, 0, '{}', null);
    const first = s.groupTx(() => {
      insert('a');
      return 'first';
    });
    const failing = s.groupTx(() => {
      insert('b');
      throw new Error('this write fails');
    });
    const third = s.groupTx(() => {
      insert('c');
      return messageCount(s);
    });
    // Nothing is written until the group commits, after the current turn.
    expect(messageCount(s)).toBe(0);
    await expect(first).resolves.toBe('first');
    await expect(failing).rejects.toThrow('this write fails');
    // The third write saw the first, not the rolled-back second.
    await expect(third).resolves.toBe(2);
    const ids = s.db.prepare('SELECT instance_id FROM messages ORDER BY id').all() as {
      instance_id: string;
    }[];
    expect(ids.map((row) => row.instance_id)).toEqual(['a', 'c']);
  });

  it('commits what is queued when the store closes', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'group-commit-'));
    const s = new DurableStore(dir);
    void s.groupTx(() => s.q.insertMessage.run('late', null, 0, '{}', null));
    await s.close();
    store = new DurableStore(dir);
    expect(messageCount(store)).toBe(1);
  });

  it('refuses a state dir written in another store format, and says what to do', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'group-commit-'));
    const old = new DurableStore(dir);
    old.db.prepare("UPDATE meta SET value = '1' WHERE key = 'format'").run();
    old.db.exec('DROP TABLE history');
    await old.close();
    expect(() => new DurableStore(dir ?? '')).toThrow(
      /durable\.sqlite in .* has store format 1; this devhost needs \d+\. Delete durable\.sqlite and its -wal and -shm files/,
    );
    // Refused as it was: none of this format's tables was added to it.
    const check = new Database(storeFile(dir), { readonly: true });
    const history = check.prepare("SELECT name FROM sqlite_master WHERE name = 'history'").all();
    check.close();
    expect(history).toEqual([]);
  });
});

describe('grouped starts (DurableEngine.startGrouped, used by the HTTP API)', () => {
  let handle: EngineHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });

  it('commits the starts of one turn together after the turn, refuses a live duplicate, and runs them', async () => {
    handle = await openEngine();
    const { engine } = handle;
    const countBefore = () =>
      (
        engine.store.db.prepare("SELECT COUNT(*) AS n FROM instances WHERE instance_id LIKE 'g-%'").get() as {
          n: number;
        }
      ).n;
    const starts = ['g-1', 'g-2', 'g-3', 'g-1'].map((instanceId) =>
      engine.startGrouped({ orchestratorName: 'sequence', instanceId }),
    );
    // Nothing is written, and nothing is running, until the group commits after this turn.
    expect(countBefore()).toBe(0);
    const [a, b, c, duplicate] = await Promise.all(starts);
    expect([a, b, c].map((o) => o?.kind)).toEqual(['started', 'started', 'started']);
    expect(duplicate).toEqual({ kind: 'conflict', instanceId: 'g-1', status: 'Pending' });
    expect(countBefore()).toBe(3);
    expect(await engine.startGrouped({ orchestratorName: 'noSuchOrchestrator', instanceId: 'g-9' })).toEqual({
      kind: 'unknownOrchestrator',
    });
    for (const id of ['g-1', 'g-2', 'g-3']) {
      await engine.waitForCompletion(id);
      expect(engine.getStatus(id)?.runtimeStatus).toBe('Completed');
    }
  });
});

describe('replayView', () => {
  it('leaves out the inputs durable-functions never replays, and keeps every other field', () => {
    const started = makeEvent(EventType.ExecutionStarted, 0, { Name: 'run', Input: '{"big":"input"}' });
    const scheduled = makeEvent(EventType.TaskScheduled, 0, { Name: 'act', Input: '"x"' });
    const created = makeEvent(EventType.SubOrchestrationInstanceCreated, 0, {
      Name: 'child',
      InstanceId: 'c1',
      Input: '{"child":"input"}',
    });
    for (const event of [started, scheduled, created]) {
      const view = replayView(event);
      expect(view).not.toHaveProperty('Input');
      expect(view).toEqual({ ...event, Input: undefined });
      expect(event.Input).toBeDefined();
    }
    expect(JSON.parse(replayText(JSON.stringify(created)))).toEqual({
      EventType: EventType.SubOrchestrationInstanceCreated,
      EventId: -1,
      IsPlayed: false,
      Timestamp: created.Timestamp,
      Name: 'child',
      InstanceId: 'c1',
    });
  });

  it('keeps the inputs the SDK reads (raised events) and reuses text that has nothing to leave out', () => {
    const raised = makeEvent(EventType.EventRaised, 0, { Name: 'approval', Input: '{"approved":true}' });
    expect(replayView(raised)).toBe(raised);
    const raisedText = JSON.stringify(raised);
    expect(replayText(raisedText)).toBe(raisedText);
    const completed = JSON.stringify(
      makeEvent(EventType.TaskCompleted, 0, { TaskScheduledId: 0, Result: '1' }),
    );
    expect(replayText(completed)).toBe(completed);
  });
});
