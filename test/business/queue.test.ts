import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { idempotentInstanceId } from '../../src/functions/runStarter.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * Queue-driven runs: the real app on the local host, messages sent with @azure/storage-queue to Azurite
 * (base64, as the Functions host expects), each process on its own queue name.
 */
const appDir = path.resolve(__dirname, '../..');
const queueName = `wr-test-${process.pid}`;
const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const ticket = (i: number) => ({ subject: `Ticket ${i}`, body: `Something about order ${i} went wrong.` });

let host: TestHost;
let queue: QueueClient;
let poison: QueueClient;

beforeAll(async () => {
  Object.assign(process.env, { OFFLINE_MODEL: 'on', WORKFLOW_REQUESTS_QUEUE: queueName });
  const service = QueueServiceClient.fromConnectionString(inject('azuriteConnectionString'));
  queue = service.getQueueClient(queueName);
  poison = service.getQueueClient(`${queueName}-poison`);
  await queue.createIfNotExists();
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
  await queue?.deleteIfExists();
  await poison?.deleteIfExists();
});

interface PoisonEntry {
  originalBody: string;
  originalBodyBase64?: string;
  dequeueCount?: number;
  reason: string;
  queue: string;
  messageId?: string;
  movedAt: string;
}

async function drainPoison(expected: number, timeoutMs: number): Promise<PoisonEntry[]> {
  const entries: PoisonEntry[] = [];
  const deadline = Date.now() + timeoutMs;
  while (entries.length < expected && Date.now() < deadline) {
    if (await poison.exists()) {
      const { receivedMessageItems } = await poison.receiveMessages({
        numberOfMessages: 32,
        visibilityTimeout: 300,
      });
      for (const item of receivedMessageItems) {
        entries.push(JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as PoisonEntry);
      }
    }
    if (entries.length < expected) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return entries;
}

describe('queue workflow-requests', () => {
  it('200 messages, 10 malformed: 190 runs complete, 10 poison messages with reasons, none lost', async () => {
    const malformed: { body: string; reason: RegExp }[] = [
      { body: '{"workflow": "ticket-triage", ', reason: /^the message is not JSON/ },
      {
        body: JSON.stringify({ workflow: 'ticket-triage', itemsBlob: 'batches/no-such-items.jsonl' }),
        reason: /itemsBlob batches\/no-such-items.jsonl does not exist/,
      },
      { body: JSON.stringify({ workflow: 'nope', input: ticket(1) }), reason: /No workflow named "nope"/ },
      {
        body: JSON.stringify({ workflow: 'Ticket-Triage', input: ticket(2) }),
        reason: /No workflow named "Ticket-Triage"/,
      },
      {
        body: JSON.stringify({ workflow: 'ticket-triage', input: { subject: 'x' } }),
        reason: /schema of "ticket-triage": \/body is required/,
      },
      {
        body: JSON.stringify({ workflow: 'ticket-triage', input: { ...ticket(3), subject: 7 } }),
        reason: /\/subject must be string/,
      },
      {
        body: JSON.stringify({ workflow: 'ticket-triage', input: { ...ticket(4), extra: 1 } }),
        reason: /\/extra is not allowed here/,
      },
      { body: JSON.stringify({ input: ticket(5) }), reason: /not a run request .*\/workflow/ },
      { body: JSON.stringify([1, 2, 3]), reason: /not a run request/ },
      {
        body: JSON.stringify({ workflow: 'ticket-triage', itemsBlob: 'no-such-container/items.jsonl' }),
        reason:
          /itemsBlob no-such-container\/items.jsonl is in container "no-such-container", which queue messages may not use; allowed: agent-artifacts, batches \(QUEUE_BLOB_CONTAINERS\)/,
      },
    ];
    const expectedRuns: string[] = [];
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 190; i++) {
      const withKey = i % 2 === 0;
      const message = {
        workflow: 'ticket-triage',
        input: ticket(i),
        ...(withKey ? { idempotencyKey: `q-${process.pid}-${i}` } : {}),
      };
      sends.push(
        queue.sendMessage(encode(JSON.stringify(message))).then((sent) => {
          expectedRuns.push(
            withKey
              ? idempotentInstanceId('queue', `q-${process.pid}-${i}`)
              : idempotentInstanceId('queue-message', sent.messageId),
          );
        }),
      );
      if (i % 19 === 0) sends.push(queue.sendMessage(encode(malformed[i / 19]?.body ?? '')));
    }
    await Promise.all(sends);
    expect(expectedRuns).toHaveLength(190);
    expect(new Set(expectedRuns).size).toBe(190);

    const entries = await drainPoison(10, 60_000);
    expect(entries).toHaveLength(10);
    for (const { body, reason } of malformed) {
      const entry = entries.find((e) => e.originalBody === body);
      expect(entry, `poison entry for ${body}`).toBeDefined();
      expect(entry?.reason).toMatch(reason);
      expect(entry?.queue).toBe(queueName);
      expect(entry?.messageId).toEqual(expect.any(String));
    }

    const deadline = Date.now() + 90_000;
    let pending = expectedRuns;
    while (pending.length > 0 && Date.now() < deadline) {
      pending = pending.filter((id) => host.host.backend.getStatus(id, {})?.runtimeStatus !== 'Completed');
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(pending, `runs not completed: ${pending.slice(0, 5).join(', ')}`).toEqual([]);
    const outputs = expectedRuns.map(
      (id) => host.host.backend.getStatus(id, {})?.output as { outcome: string },
    );
    expect(outputs.every((o) => o.outcome === 'completed')).toBe(true);

    // Nothing left behind: the trigger queue is empty, and nothing more went to poison.
    const { approximateMessagesCount } = await queue.getProperties();
    expect(approximateMessagesCount).toBe(0);
    expect(await drainPoison(1, 500)).toEqual([]);
    expect(
      host.logs.some((line) =>
        /moved to wr-test-\d+-poison without retrying: No workflow named "nope"/.test(line),
      ),
    ).toBe(true);
  }, 180_000);

  it('deep nesting, invalid UTF-8 and a reused key go to poison on the first delivery, with the reason', async () => {
    const deep = `{"workflow":"ticket-triage","input":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const latin1 = Buffer.concat([
      Buffer.from('{"workflow":"ticket-triage","input":{"subject":"Gr'),
      Buffer.from([0xfc, 0xdf]),
      Buffer.from('e","body":"x"}}'),
    ]);
    const key = `reuse-${process.pid}`;
    const first = JSON.stringify({ workflow: 'ticket-triage', input: ticket(1), idempotencyKey: key });
    const reused = JSON.stringify({ workflow: 'ticket-triage', input: ticket(2), idempotencyKey: key });
    await queue.sendMessage(encode(first));
    const id = idempotentInstanceId('queue', key);
    const deadline = Date.now() + 30_000;
    while (host.host.backend.getStatus(id, {}) === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await queue.sendMessage(encode(deep));
    await queue.sendMessage(latin1.toString('base64'));
    await queue.sendMessage(encode(reused));

    const entries = await drainPoison(3, 30_000);
    expect(entries).toHaveLength(3);
    // The first delivery moved each one: no retries, no waiting out maxDequeueCount.
    expect(entries.map((e) => e.dequeueCount)).toEqual([1, 1, 1]);
    const deepEntry = entries.find((e) => e.originalBody === deep);
    expect(deepEntry?.reason).toMatch(
      /^the message is refused: the JSON nests arrays and objects deeper than 32 levels \(at character 67\)/,
    );
    const latinEntry = entries.find((e) => e.originalBodyBase64 !== undefined);
    expect(latinEntry?.reason).toMatch(
      /^the message is refused: the text is not valid UTF-8 \(byte 50 is 0xfc\)/,
    );
    expect(Buffer.from(latinEntry?.originalBodyBase64 ?? '', 'base64').equals(latin1)).toBe(true);
    expect(entries.find((e) => e.originalBody === reused)?.reason).toBe(
      `idempotencyKey "${key}" already started run ${id} with a different request; use a new key for a new run`,
    );
    expect(host.host.backend.listInstances({ top: 10, instanceIdPrefix: id }).instances).toHaveLength(1);
  }, 60_000);

  it('a redelivered message (same key) starts nothing new', async () => {
    const key = `dup-${process.pid}`;
    const message = encode(
      JSON.stringify({ workflow: 'ticket-triage', input: ticket(1), idempotencyKey: key }),
    );
    await Promise.all([queue.sendMessage(message), queue.sendMessage(message), queue.sendMessage(message)]);
    const id = idempotentInstanceId('queue', key);
    const deadline = Date.now() + 30_000;
    while (host.host.backend.getStatus(id, {})?.runtimeStatus !== 'Completed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(host.host.backend.getStatus(id, {})?.runtimeStatus).toBe('Completed');
    const started = host.host.backend.listInstances({ top: 1000, instanceIdPrefix: id }).instances;
    expect(started).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
    expect(
      host.logs.filter((line) => line.includes(`already started run of ticket-triage as ${id}`)).length,
    ).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
