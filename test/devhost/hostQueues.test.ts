import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fixtureApp, startTestHost, type TestHost } from '../support/testHost.js';

const QUEUE = `conformance-queue-${process.pid}`;

describe('queue-triggered functions on devhost (Azurite)', () => {
  let testHost: TestHost;
  let queues: QueueServiceClient;

  beforeAll(async () => {
    const connectionString = inject('azuriteConnectionString');
    process.env.AzureWebJobsStorage = connectionString;
    process.env.CONFORMANCE_QUEUE = QUEUE;
    queues = QueueServiceClient.fromConnectionString(connectionString);
    await queues.getQueueClient(QUEUE).createIfNotExists();
    await queues.getQueueClient(`${QUEUE}-poison`).createIfNotExists();
    testHost = await startTestHost({ appDir: fixtureApp('conformance-app') });
  });
  afterAll(async () => testHost.stop());

  const send = (body: unknown) =>
    queues.getQueueClient(QUEUE).sendMessage(Buffer.from(JSON.stringify(body)).toString('base64'));

  it('starts an orchestration per message', async () => {
    await send({ orchestrator: 'sequence', instanceId: 'from-queue-1', input: 'q' });
    await send({ orchestrator: 'fanOut', instanceId: 'from-queue-2', input: 3 });
    const base = `${testHost.host.url}/durabletask/instances`;
    for (const [id, output] of [
      ['from-queue-1', 'Q-1-2'],
      ['from-queue-2', 14],
    ] as const) {
      const payload = { id, statusQueryGetUri: `${base}/${id}` } as never;
      const deadline = Date.now() + 20_000;
      let status = await testHost.client.statusIfExists(payload);
      while (status?.runtimeStatus !== 'Completed' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        status = await testHost.client.statusIfExists(payload);
      }
      expect(status?.output).toEqual(output);
    }
  });

  it('moves a message whose handler always throws to the poison queue, body intact, after maxDequeueCount', async () => {
    const body = { explode: true, marker: `poison-${Date.now()}` };
    await send(body);
    const poison = queues.getQueueClient(`${QUEUE}-poison`);
    const deadline = Date.now() + 20_000;
    let found: string | undefined;
    while (!found && Date.now() < deadline) {
      const peeked = await poison.peekMessages({ numberOfMessages: 32 });
      found = peeked.peekedMessageItems
        .map((m) => Buffer.from(m.messageText, 'base64').toString('utf8'))
        .find((text) => text.includes(body.marker));
      if (!found) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found && JSON.parse(found)).toEqual(body);
    const failures = testHost.logs.filter((l) => l.includes(`'Functions.startFromQueue' (Failed`));
    expect(failures.length).toBe(3); // host.json maxDequeueCount
  });
});
