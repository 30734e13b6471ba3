import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureApp, startTestHost, type TestHost } from '../support/testHost.js';

describe('devhost time control (skipIdleTime)', () => {
  let testHost: TestHost;

  beforeAll(async () => {
    testHost = await startTestHost({ appDir: fixtureApp('conformance-app'), skipIdleTime: true });
  });
  afterAll(async () => testHost.stop());

  it('times out a one-day approval in well under a second of real time', async () => {
    const started = performance.now();
    const status = await testHost.client.run('approval', { timeoutSeconds: 24 * 60 * 60 });
    const elapsedMs = performance.now() - started;
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: { timedOut: true } });
    expect(elapsedMs).toBeLessThan(1000);
  });

  it('fires a timer longer than maximumShortTimerDuration (split into long-timer chunks)', async () => {
    const sevenDays = 7 * 24 * 60 * 60;
    const status = await testHost.client.run('timer', sevenDays);
    expect(status.runtimeStatus).toBe('Completed');
    expect((status.output as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(sevenDays * 1000);
  });
});
