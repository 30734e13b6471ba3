import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { storeFile } from '../../devhost/durable/store.js';
import { openEngine, started, type EngineHandle } from './engineHarness.js';

describe.each(['batched', 'eventByEvent'] as const)('durable engine restart (%s)', (replayMode) => {
  const handles: EngineHandle[] = [];
  afterAll(async () => {
    for (const h of handles) await h.close().catch(() => undefined);
  });

  it('continues every instance after close + reopen on the same state dir', async () => {
    const first = await openEngine({ replayMode, maxConcurrentActivityFunctions: 2 });
    const ids = [0, 1, 2, 3].map((i) =>
      started(first.engine.start({ orchestratorName: 'slowSteps', input: 6 + i })),
    );
    const fan = started(first.engine.start({ orchestratorName: 'fanOut', input: 300 }));
    await new Promise((r) => setTimeout(r, 60));
    const second = await first.reopen();
    handles.push(second);
    for (const [i, id] of ids.entries()) {
      const s = await second.engine.waitForCompletion(id, 20_000);
      expect(s.runtimeStatus).toBe('Completed');
      expect(s.output).toEqual(Array.from({ length: 6 + i }, (_, k) => k));
    }
    expect((await second.engine.waitForCompletion(fan)).output).toBe((299 * 300) / 2);
  });

  it('fires a timer that fell due while the engine was down, once', async () => {
    const first = await openEngine({ replayMode });
    const id = started(first.engine.start({ orchestratorName: 'timer', input: 150 }));
    await new Promise((r) => setTimeout(r, 30));
    await first.engine.stop();
    await new Promise((r) => setTimeout(r, 300));
    const second = await openEngine({ replayMode }, first.stateDir);
    handles.push(second);
    const s = await second.engine.waitForCompletion(id);
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toBeGreaterThanOrEqual(150);
    const fired = (second.engine.getStatus(id, { showHistory: true })?.historyEvents ?? []).filter(
      (e) => e.EventType === 'TimerFired',
    );
    expect(fired).toHaveLength(1);
  });

  it('lists, pages and purges instances', async () => {
    const h = await openEngine({ replayMode });
    handles.push(h);
    const ids = [1, 2, 3, 4, 5].map((i) =>
      started(h.engine.start({ orchestratorName: 'sequence', instanceId: `list-${i}` })),
    );
    for (const id of ids) await h.engine.waitForCompletion(id);
    started(h.engine.start({ orchestratorName: 'waitForever', instanceId: 'list-running' }));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = h.engine.listInstances({
        top: 2,
        instanceIdPrefix: 'list-',
        ...(token ? { continuationToken: token } : {}),
      });
      seen.push(...page.instances.map((i) => i.instanceId));
      token = page.continuationToken;
    } while (token);
    expect(seen.sort()).toEqual([...ids, 'list-running'].sort());
    const done = h.engine.listInstances({ runtimeStatus: ['Completed'], instanceIdPrefix: 'list-' });
    expect(done.instances).toHaveLength(5);
    expect(done.instances[0]).toHaveProperty('input', null);
    expect(done.instances[0]).toHaveProperty('output');
    expect(h.engine.purge('list-1')).toBe(1);
    expect(h.engine.purge('list-running')).toBe(0);
    expect(h.engine.getStatus('list-1')).toBeUndefined();
    expect(h.engine.purgeByFilter({ instanceIdPrefix: 'list-' })).toBe(4);
    expect(h.engine.listInstances({ instanceIdPrefix: 'list-' }).instances.map((i) => i.instanceId)).toEqual([
      'list-running',
    ]);
    expect(h.engine.start({ orchestratorName: 'waitForever', instanceId: 'list-running' })).toEqual({
      kind: 'conflict',
      instanceId: 'list-running',
      // Named in the extension's "An Orchestration instance with the status … already exists."
      status: expect.stringMatching(/^(Pending|Running)$/) as unknown,
    });
    expect(h.engine.start({ orchestratorName: 'nope' })).toEqual({ kind: 'unknownOrchestrator' });
  });

  it("keeps each input in its own row: the current execution's, listed with the instance, purged with it", async () => {
    const h = await openEngine({ replayMode });
    handles.push(h);
    const id = started(h.engine.start({ orchestratorName: 'counter', instanceId: 'inputs-1', input: 0 }));
    expect((await h.engine.waitForCompletion(id)).output).toBe(3);
    // Each continueAsNew replaced the input; the status shows the last execution's.
    expect(h.engine.getStatus(id)?.input).toBe(3);
    const listed = h.engine.listInstances({ instanceIdPrefix: 'inputs-' }).instances;
    expect(listed.map((i) => [i.instanceId, i.input])).toEqual([[id, 3]]);
    // Reads that do not show the input leave it out.
    expect(h.engine.getStatus(id, { showInput: false })).toMatchObject({ input: null, output: 3 });
    const heads = h.engine.listInstances({ instanceIdPrefix: 'inputs-', showInput: false }).instances;
    expect(heads.map((i) => [i.instanceId, i.input, i.output])).toEqual([[id, null, 3]]);
    const db = new Database(storeFile(h.stateDir), { readonly: true });
    const inputRows = () =>
      db
        .prepare<[string], { input: string }>('SELECT input FROM instance_inputs WHERE instance_id = ?')
        .all(id);
    try {
      expect(inputRows()).toEqual([{ input: '3' }]);
      expect(h.engine.purge(id)).toBe(1);
      expect(inputRows()).toEqual([]);
    } finally {
      db.close();
    }
  });
});
