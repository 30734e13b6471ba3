import { afterEach, describe, expect, it } from 'vitest';
import { fixtureApp, startTestHost, type TestHost } from '../support/testHost.js';

/** The app's code runs in language worker threads beside the host, as the Node worker runs beside the Functions host. */
describe('language worker', () => {
  let testHost: TestHost | undefined;
  afterEach(async () => {
    delete process.env.FUNCTIONS_WORKER_PROCESS_COUNT;
    await testHost?.stop();
    testHost = undefined;
  });

  const where = async (query = '') => {
    const response = await fetch(`${testHost?.host.url}/api/where${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as { isMainThread: boolean; threadId: number; setting: string | null };
  };

  it("runs the app off the host's thread, sees the host's environment, and logs through the host", async () => {
    testHost = await startTestHost({ appDir: fixtureApp('worker-app') });
    process.env.WORKER_APP_SETTING = 'set after start';
    try {
      const answer = await where();
      expect(answer.isMainThread).toBe(false);
      expect(answer.setting).toBe('set after start');
      expect(testHost.logs.some((line) => line.includes(`where called on thread ${answer.threadId}`))).toBe(
        true,
      );
      expect(testHost.logs.some((line) => line.includes("Executed 'Functions.where' (Succeeded"))).toBe(true);
    } finally {
      delete process.env.WORKER_APP_SETTING;
    }
  });

  it('runs the app on the host thread when asked to (inline)', async () => {
    testHost = await startTestHost({ appDir: fixtureApp('worker-app'), languageWorker: 'inline' });
    expect((await where()).isMainThread).toBe(true);
  });

  it('fails the invocations of a worker that dies, then serves from a new worker', async () => {
    testHost = await startTestHost({ appDir: fixtureApp('worker-app') });
    const before = await where();
    const crashed = await fetch(`${testHost.host.url}/api/crash`, { method: 'POST' });
    expect(crashed.status).toBe(500);
    expect(
      testHost.logs.some((line) => /language worker exited \(code 7\); starting a new one/.test(line)),
    ).toBe(true);
    let after: Awaited<ReturnType<typeof where>> | undefined;
    for (let attempt = 0; attempt < 50 && after === undefined; attempt++) {
      const response = await fetch(`${testHost.host.url}/api/where`);
      if (response.status === 200) after = (await response.json()) as typeof after;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(after?.isMainThread).toBe(false);
    expect(after?.threadId).not.toBe(before.threadId);
  });

  it('spreads invocations over FUNCTIONS_WORKER_PROCESS_COUNT workers, and refuses a bad count', async () => {
    process.env.FUNCTIONS_WORKER_PROCESS_COUNT = '2';
    testHost = await startTestHost({ appDir: fixtureApp('worker-app') });
    const answers = await Promise.all(Array.from({ length: 4 }, () => where('?holdMs=200')));
    expect(new Set(answers.map((answer) => answer.threadId)).size).toBe(2);
    await testHost.stop();
    testHost = undefined;

    process.env.FUNCTIONS_WORKER_PROCESS_COUNT = '0';
    await expect(startTestHost({ appDir: fixtureApp('worker-app') })).rejects.toThrow(
      'FUNCTIONS_WORKER_PROCESS_COUNT must be a whole number from 1 to 10 (got "0")',
    );
  });
});
