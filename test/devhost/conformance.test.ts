import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostClient } from '../support/hostClient.js';
import { fixtureApp, startTestHost, type TestHost } from '../support/testHost.js';

/**
 * One orchestration per Durable feature, started through the app's HTTP starter (the real
 * DurableClient) and checked through the Durable HTTP API. Run with all new events per episode
 * (as the extension does), with one event per episode (every episode replays from scratch with
 * the most replays), under each replay schema the SDK speaks, and with the app on the host's own
 * thread as well as in its language worker thread.
 */
const configurations = [
  { replayMode: 'batched', schemaVersion: 3, languageWorker: 'thread' },
  { replayMode: 'eventByEvent', schemaVersion: 3, languageWorker: 'thread' },
  { replayMode: 'batched', schemaVersion: 2, languageWorker: 'thread' },
  { replayMode: 'batched', schemaVersion: 4, languageWorker: 'thread' },
  { replayMode: 'batched', schemaVersion: 3, languageWorker: 'inline' },
] as const;

describe.each(configurations)(
  'Durable conformance ($replayMode episodes, schema V$schemaVersion, $languageWorker language worker)',
  (config) => {
    let testHost: TestHost;
    let client: HostClient;

    beforeAll(async () => {
      testHost = await startTestHost({ appDir: fixtureApp('conformance-app'), ...config });
      client = testHost.client;
    });
    afterAll(async () => testHost.stop());

    it('runs a sequence of activities', async () => {
      const status = await client.run('sequence', 'abc');
      expect(status.runtimeStatus).toBe('Completed');
      expect(status.output).toBe('ABC-1-2');
      expect(status.input).toBe('abc');
    });

    it('fans out and in', async () => {
      const status = await client.run('fanOut', 40);
      expect(status.runtimeStatus).toBe('Completed');
      expect(status.output).toBe((40 * 41 * 81) / 6);
    });

    it('retries an activity with backoff until it succeeds', async () => {
      const status = await client.run('retrySucceeds');
      expect(status).toMatchObject({ runtimeStatus: 'Completed', output: { attempts: 3 } });
    });

    it('surfaces FailureDetails as TaskFailedError once retries are exhausted', async () => {
      const status = await client.run('retryExhausted');
      expect(status.runtimeStatus).toBe('Completed');
      expect(status.output).toMatchObject({
        caught: true,
        errorType: 'QuotaError',
        errorMessage: 'quota exhausted',
        properties: { code: 'Q42' },
      });
    });

    it('stops retrying at the retry timeout', async () => {
      const status = await client.run('retryTimeout');
      expect(status.runtimeStatus).toBe('Completed');
      const { gaveUpAfterMs } = status.output as { gaveUpAfterMs: number };
      expect(gaveUpAfterMs).toBeGreaterThanOrEqual(1000);
      expect(gaveUpAfterMs).toBeLessThan(4000);
    });

    it('fires a durable timer', async () => {
      const status = await client.run('timer', 1);
      expect(status.runtimeStatus).toBe('Completed');
      expect((status.output as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(1000);
    });

    it('lets an activity win Task.any against a timer and cancels the timer', async () => {
      const status = await client.run('raceActivityAgainstTimer');
      expect(status).toMatchObject({
        runtimeStatus: 'Completed',
        output: { winner: 'activity', result: 'fast' },
      });
    });

    it('delivers an external event before the timeout and keeps custom status', async () => {
      const started = await client.start('approval', { timeoutSeconds: 600 });
      const waiting = await client.waitFor(
        started,
        (s) => s.runtimeStatus === 'Running' && s.customStatus !== null,
      );
      expect(waiting.customStatus).toEqual({ waitingFor: 'approval' });
      expect((await client.raiseEvent(started, 'approval', { by: 'ada' })).status).toBe(202);
      const done = await client.waitFor(started);
      expect(done).toMatchObject({
        runtimeStatus: 'Completed',
        output: { approved: { by: 'ada' } },
        customStatus: { decided: true },
      });
    });

    it('buffers external events raised before the orchestration waits for them', async () => {
      const started = await client.start('eventBeforeWait');
      await client.waitFor(started, (s) => s.runtimeStatus === 'Running');
      expect((await client.raiseEvent(started, 'second', 2)).status).toBe(202);
      expect((await client.raiseEvent(started, 'first', 1)).status).toBe(202);
      const done = await client.waitFor(started);
      expect(done).toMatchObject({ runtimeStatus: 'Completed', output: [1, 2] });
    });

    it('runs sub-orchestrations with given and generated ids, and with retry', async () => {
      const status = await client.run('parent');
      expect(status.runtimeStatus).toBe('Completed');
      const [named, generated, retried] = status.output as {
        squared: number;
        instanceId: string;
        parent: string;
      }[];
      expect(named).toMatchObject({
        squared: 4,
        instanceId: `${status.instanceId}-named-child`,
        parent: status.instanceId,
      });
      expect(generated?.squared).toBe(9);
      expect(generated?.instanceId).not.toBe(named?.instanceId);
      expect(retried?.squared).toBe(16);
    });

    it('continues as new with fresh history', async () => {
      const status = await client.run('counter', { count: 0, until: 4, history: [] });
      expect(status.runtimeStatus).toBe('Completed');
      expect(status.output).toMatchObject({ count: 4 });
      const withHistory = await client.status(await client.start('sequence', 'x'), '');
      expect(withHistory.instanceId).toBeTruthy();
    });

    it('terminates a waiting instance', async () => {
      const started = await client.start('waitForever');
      await client.waitFor(started, (s) => s.customStatus === 'waiting');
      expect((await client.post(started.terminatePostUri.replace('{text}', 'enough'))).status).toBe(202);
      const done = await client.waitFor(started);
      expect(done.runtimeStatus).toBe('Terminated');
      expect((await client.raiseEvent(started, 'go', 1)).status).toBe(410);
    });

    it('holds events while suspended and continues on resume', async () => {
      const started = await client.start('waitForever');
      await client.waitFor(started, (s) => s.customStatus === 'waiting');
      expect((await client.post(started.suspendPostUri.replace('{text}', 'hold'))).status).toBe(202);
      await client.waitFor(started, (s) => s.runtimeStatus === 'Suspended');
      expect((await client.raiseEvent(started, 'go', 'later')).status).toBe(202);
      await new Promise((r) => setTimeout(r, 200));
      expect((await client.status(started)).runtimeStatus).toBe('Suspended');
      expect((await client.post(started.resumePostUri.replace('{text}', 'go on'))).status).toBe(202);
      const done = await client.waitFor(started);
      expect(done).toMatchObject({ runtimeStatus: 'Completed', output: { received: 'later' } });
    });

    it('rewinds a failed instance to completion', async () => {
      const started = await client.start('failsThenRewinds');
      const failed = await client.waitFor(started);
      expect(failed.runtimeStatus).toBe('Failed');
      expect(JSON.stringify(failed.output)).toContain('first call for');
      expect((await client.post(started.rewindPostUri.replace('{text}', 'retry'))).status).toBe(202);
      const done = await client.waitFor(started, (s) => s.runtimeStatus === 'Completed');
      expect(done.output).toEqual(['before', `ok:${started.id}-rewind`]);
    });

    it('fails an orchestration whose activity fails, naming the activity', async () => {
      const status = await client.run('uncaughtFailure');
      expect(status.runtimeStatus).toBe('Failed');
      expect(JSON.stringify(status.output)).toContain('quota exhausted');
    });

    it('fails loudly on callHttp and entities, which devhost does not implement', async () => {
      const http = await client.run('usesCallHttp');
      expect(http.runtimeStatus).toBe('Failed');
      expect(JSON.stringify(http.output)).toMatch(/callHttp.*(does not|not) support/i);
      const entity = await client.run('usesEntity');
      expect(entity.runtimeStatus).toBe('Failed');
      expect(JSON.stringify(entity.output)).toMatch(/entit.*(does not|not) support/i);
    });

    it('purges by id and by filter', async () => {
      const first = await client.start('sequence', 'p1');
      await client.waitFor(first);
      const purge = await fetch(first.purgeHistoryDeleteUri, { method: 'DELETE' });
      expect(purge.status).toBe(200);
      expect(await purge.json()).toEqual({ instancesDeleted: 1 });
      expect((await fetch(first.statusQueryGetUri)).status).toBe(404);
    });

    it('returns the result directly with waitForCompletionOrCreateCheckStatusResponse', async () => {
      const response = await fetch(`${testHost.host.url}/api/wait/sequence`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify('hi'),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toBe('HI-1-2');
    });

    it('logs orchestrator messages once, not on every replay', async () => {
      const status = await client.run('replaySafeLogging');
      expect(status.runtimeStatus).toBe('Completed');
      const starting = testHost.logs.filter((l) => l.includes('starting replaySafeLogging'));
      expect(starting).toHaveLength(1);
      // The host, not only the app's isReplaying guard, keeps replayed log lines out.
      expect(testHost.logs.filter((l) => l.includes('unguarded replaySafeLogging'))).toHaveLength(1);
    });
  },
);
