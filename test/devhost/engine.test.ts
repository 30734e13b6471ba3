import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineAppInvoker, openEngine, started, waitForStatus, type EngineHandle } from './engineHarness.js';

describe.each(['batched', 'eventByEvent'] as const)('durable engine (%s)', (replayMode) => {
  let h: EngineHandle;
  beforeAll(async () => {
    h = await openEngine({ replayMode, timeScale: 1, skipIdleTime: true });
  });
  afterAll(async () => {
    await h.close();
  });
  const run = async (name: string, input?: unknown, instanceId?: string) => {
    const id = started(
      h.engine.start({ orchestratorName: name, input, ...(instanceId ? { instanceId } : {}) }),
    );
    return h.engine.waitForCompletion(id, 20_000);
  };

  it('runs a sequence of activities', async () => {
    const s = await run('sequence');
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toEqual(['Hello Tokyo', 'Hello Seattle', { n: 3 }]);
    expect(s.createdTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('fans out and in', async () => {
    const s = await run('fanOut', 200);
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toBe((199 * 200) / 2);
  });

  it('fires durable timers (virtual time skips idle waits)', async () => {
    const t0 = Date.now();
    const s = await run('timer', 3_600_000);
    expect(s.output).toBeGreaterThanOrEqual(3_600_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('splits long timers (V3) and still wakes once', async () => {
    const s = await run('longTimer');
    expect(s.runtimeStatus).toBe('Completed');
    expect((s.output as { r: string }).r).toBe('woke');
    expect((s.output as { elapsedDays: number }).elapsedDays).toBeGreaterThanOrEqual(10);
    const history = h.engine.getStatus(s.instanceId, { showHistory: true })?.historyEvents ?? [];
    expect(history.filter((e) => e.EventType === 'TimerCreated').length).toBe(3);
  });

  it('times out an approval with a one-day timer', async () => {
    const s = await run('approval', 86_400_000);
    expect(s.output).toEqual({ approved: false, timedOut: true });
  });

  it('delivers an external event and cancels the timer', async () => {
    const id = started(h.engine.start({ orchestratorName: 'approval', input: 86_400_000 }));
    expect(h.engine.raiseEvent(id, 'approve', { by: 'alice' })).toBe('accepted');
    const s = await h.engine.waitForCompletion(id);
    expect(s.output).toEqual({ approved: { by: 'alice' } });
  });

  it('buffers events raised before they are awaited', async () => {
    const id = started(h.engine.start({ orchestratorName: 'events' }));
    h.engine.raiseEvent(id, 'b', 2);
    h.engine.raiseEvent(id, 'a', 1);
    const s = await h.engine.waitForCompletion(id);
    expect(s.output).toEqual([1, 2]);
  });

  it('retries activities with backoff and gives up after maxNumberOfAttempts', async () => {
    const ok = await run('retry', { key: `r-ok-${replayMode}`, succeedOn: 3, max: 3 });
    expect(ok.output).toEqual({ attempts: 3 });
    const bad = await run('retry', { key: `r-bad-${replayMode}`, succeedOn: 9, max: 2 });
    expect(bad.output).toEqual({ failed: "Activity function 'flaky' failed: flaky attempt 2 " });
  });

  it('keeps event ids straight with retries inside a fan-out', async () => {
    const s = await run('retryFanOut', `rf-${replayMode}`);
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toEqual({
      results: [{ attempts: 1 }, { attempts: 2 }, { attempts: 3 }, { attempts: 1 }, 'x'],
      after: 'after',
    });
  });

  it('runs sub-orchestrations with given and generated ids, with retry', async () => {
    const s = await run('parent', undefined, `p-${replayMode}`);
    expect(s.runtimeStatus).toBe('Completed');
    const out = s.output as Record<string, { instanceId: string; parent: string } | string[] | string>;
    expect(out.given).toEqual({
      greeting: 'Hello given',
      instanceId: `p-${replayMode}-kid`,
      parent: `p-${replayMode}`,
    });
    expect((out.generated as { instanceId: string }).instanceId).toBe(`p-${replayMode}:1`);
    expect(out.many).toEqual(['Hello n1', 'Hello n2', 'Hello n3']);
    expect(out.failure).toMatch(/^Orchestrator function 'child' failed: child failed: always/);
  });

  it("answers status history trimmed as the extension's HTTP API does (DurableClient.cs)", async () => {
    const s = await run('parent', undefined, `trim-${replayMode}`);
    expect(s.runtimeStatus).toBe('Completed');
    const events = h.engine.getStatus(s.instanceId, { showHistory: true })?.historyEvents ?? [];
    const types = events.map((e) => e.EventType);
    // No sequence numbers, no episode markers, no finished task's or child's scheduling event.
    for (const field of ['EventId', 'IsPlayed', 'TaskScheduledId', 'TimerId', 'Input', 'Version'])
      expect(
        events.filter((e) => field in e).map((e) => e.EventType),
        field,
      ).toEqual([]);
    for (const gone of [
      'OrchestratorStarted',
      'OrchestratorCompleted',
      'TaskScheduled',
      'SubOrchestrationInstanceCreated',
    ])
      expect(types).not.toContain(gone);
    expect(events[0]).toMatchObject({ EventType: 'ExecutionStarted', FunctionName: 'parent' });
    // Each completion carries its scheduling event's name and time instead.
    const completions = events.filter((e) => String(e.EventType).startsWith('SubOrchestrationInstance'));
    expect(completions.length).toBeGreaterThanOrEqual(6);
    for (const completion of completions) {
      expect(completion.FunctionName).toBe('child');
      expect(Date.parse(String(completion.ScheduledTime))).toBeLessThanOrEqual(
        Date.parse(String(completion.Timestamp)),
      );
    }
    // Result only with showHistoryOutput, parsed.
    expect(events.some((e) => 'Result' in e)).toBe(false);
    const withOutput = h.engine.getStatus(s.instanceId, { showHistory: true, showHistoryOutput: true });
    const done = withOutput?.historyEvents?.find((e) => e.EventType === 'SubOrchestrationInstanceCompleted');
    expect(done?.Result).toMatchObject({ greeting: 'Hello given' });

    // A raised event keeps its name, not its payload.
    const id = started(h.engine.start({ orchestratorName: 'approval', input: 86_400_000 }));
    expect(h.engine.raiseEvent(id, 'approve', { by: 'alice' })).toBe('accepted');
    await h.engine.waitForCompletion(id);
    const approval = h.engine.getStatus(id, { showHistory: true })?.historyEvents ?? [];
    const raised = approval.find((e) => e.EventType === 'EventRaised');
    expect(Object.keys(raised ?? {}).sort()).toEqual(['EventType', 'Name', 'Timestamp']);
    expect(raised?.Name).toBe('approve');
    expect(approval.find((e) => e.EventType === 'TimerCreated')).toHaveProperty('FireAt');
  });

  it('continues as new', async () => {
    const s = await run('counter', 0);
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toBe(3);
    expect(s.input).toBe(3);
  });

  it('reports custom status', async () => {
    const id = started(h.engine.start({ orchestratorName: 'customStatus' }));
    await waitForStatus(h.engine, id, 'Running');
    const deadline = Date.now() + 5000;
    while (h.engine.getStatus(id)?.customStatus === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    expect(h.engine.getStatus(id)?.customStatus).toEqual({ stage: 'waiting' });
    h.engine.raiseEvent(id, 'go', 'went');
    const s = await h.engine.waitForCompletion(id);
    expect(s.customStatus).toEqual({ stage: 'done' });
    expect(s.output).toBe('went');
  });

  it('fails an orchestration whose custom status passes 16 KB of UTF-16, as the extension does', async () => {
    // 8,703 code units = 17,406 bytes of UTF-16 = 16 KB after the extension's truncating division.
    const fits = await run('sizedStatus', { chars: 8703, char: '€' });
    expect(fits.runtimeStatus).toBe('Completed');
    expect(JSON.stringify(fits.customStatus)).toHaveLength(8703);
    const id = started(
      h.engine.start({ orchestratorName: 'sizedStatus', input: { chars: 8704, char: 'x' } }),
    );
    const s = await h.engine.waitForCompletion(id, 20_000);
    expect(s.runtimeStatus).toBe('Failed');
    expect(s.output).toBe(
      "Orchestrator function 'sizedStatus' failed: The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB.",
    );
    // The status is refused before the answer's actions are replayed: nothing was scheduled.
    const history = h.engine.getStatus(id, { showHistory: true })?.historyEvents ?? [];
    expect(history.map((e) => e.EventType)).not.toContain('TaskScheduled');
    expect(s.customStatus).toBeNull();
  });

  it('fails with the activity error', async () => {
    const s = await run('failing');
    expect(s.runtimeStatus).toBe('Failed');
    expect(s.output).toMatch(
      /^Orchestrator function 'failing' failed: Activity function 'fails' failed: boom: x/,
    );
  });

  it('fails loudly on callHttp and entities', async () => {
    const http = await run('usesHttp');
    expect(http.runtimeStatus).toBe('Failed');
    expect(http.output).toMatch(
      /'usesHttp' uses durable HTTP \(context\.df\.callHttp\), which devhost does not support/,
    );
    const entity = await run('usesEntity');
    expect(entity.output).toMatch(/'usesEntity' uses durable entities/);
  });

  it('terminates, suspends and resumes', async () => {
    const id = started(h.engine.start({ orchestratorName: 'events' }));
    await waitForStatus(h.engine, id, 'Running');
    expect(h.engine.suspend(id, 'pause')).toBe('accepted');
    await waitForStatus(h.engine, id, 'Suspended');
    h.engine.raiseEvent(id, 'a', 'A');
    h.engine.raiseEvent(id, 'b', 'B');
    await h.engine.waitForIdle();
    expect(h.engine.getStatus(id)?.runtimeStatus).toBe('Suspended');
    h.engine.resume(id, 'go');
    expect((await h.engine.waitForCompletion(id)).output).toEqual(['A', 'B']);

    const t = started(h.engine.start({ orchestratorName: 'waitForever' }));
    await waitForStatus(h.engine, t, 'Running');
    expect(h.engine.terminate(t, 'enough')).toBe('accepted');
    const s = await h.engine.waitForCompletion(t);
    expect(s.runtimeStatus).toBe('Terminated');
    expect(s.output).toBe('enough');
    expect(h.engine.terminate(t, 'again')).toBe('gone');
    expect(h.engine.terminate('nope', 'x')).toBe('notFound');
  });

  it('rewinds a failed instance', async () => {
    const s = await run('rewindable', `rw-${replayMode}`);
    expect(s.runtimeStatus).toBe('Failed');
    expect(h.engine.rewind(s.instanceId, 'retry')).toBe('accepted');
    const again = await h.engine.waitForCompletion(s.instanceId);
    expect(again.runtimeStatus).toBe('Completed');
    expect(again.output).toEqual(['Hello first', 'ok after 2']);
  });

  it('rewinds an instance its orchestrator failed: revived with a GenericEvent, replayed, failed again', async () => {
    const s = await run('throwsItself', undefined, `rw-self-${replayMode}`);
    expect(s.runtimeStatus).toBe('Failed');
    expect(s.output).toBe(
      "Orchestrator function 'throwsItself' failed: stopped by the orchestrator after Hello once",
    );
    expect(h.engine.rewind(s.instanceId, 'try again')).toBe('accepted');
    expect(h.engine.getStatus(s.instanceId)?.runtimeStatus).toBe('Running');
    const again = await h.engine.waitForCompletion(s.instanceId);
    expect(again.runtimeStatus).toBe('Failed');
    expect(again.output).toBe(s.output);
    const history = h.engine.getStatus(s.instanceId, { showHistory: true })?.historyEvents ?? [];
    const types = history.map((e) => (e as { EventType: string }).EventType);
    // The HTTP API folds a completed task's TaskScheduled into its TaskCompleted (DurableClient.cs).
    expect(types).not.toContain('TaskScheduled');
    expect(types.filter((t) => t === 'TaskCompleted')).toHaveLength(1);
    expect(types).toContain('GenericEvent');
    expect(types.filter((t) => t === 'ExecutionCompleted')).toHaveLength(1);
  });

  it('prints orchestrator logs once, not on every replay', async () => {
    h.lines.length = 0;
    (await engineAppInvoker()).setHostLog((_level, message) => h.lines.push(message));
    await run('logging');
    const userLines = h.lines.filter((l) => l.includes('log-'));
    expect(userLines).toEqual(['[logging] log-before', '[logging] log-middle', '[logging] log-after']);
    expect(
      h.lines.some((l) =>
        /Executed 'Functions\.noop' \(Succeeded, activity, .*#\d+, Id=.*, Duration=\d+ms\)$/.test(l),
      ),
    ).toBe(true);
  });
});
