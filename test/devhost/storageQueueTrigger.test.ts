import { randomBytes } from 'node:crypto';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  FunctionInvoker,
  FunctionRegistration,
  InvocationInput,
  TypedData,
} from '../../devhost/functions/types.js';
import type { QueuesOptions } from '../../devhost/storage/queueOptions.js';
import {
  decodeBase64Strict,
  resolveQueueName,
  startQueueTriggers,
  type QueueTriggerHost,
} from '../../devhost/storage/queueTrigger.js';

type Handler = (input: InvocationInput) => Promise<void>;

function fakeInvoker(registrations: FunctionRegistration[], handler: Handler) {
  const calls: InvocationInput[] = [];
  const invoker: FunctionInvoker = {
    registrations: new Map(registrations.map((r) => [r.name, r])),
    invoke: async (_name, input) => {
      calls.push(input);
      await handler(input);
      return { outputData: [] };
    },
  };
  return { invoker, calls };
}

function queueRegistration(
  name: string,
  queueName: string,
  extra: Record<string, unknown> = {},
): FunctionRegistration {
  const trigger = {
    type: 'queueTrigger',
    direction: 'in' as const,
    name: 'item',
    queueName,
    connection: 'TestStorage',
    ...extra,
  };
  return {
    name,
    triggerType: 'queueTrigger',
    triggerBindingName: 'item',
    trigger,
    bindings: { item: trigger },
  };
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const json = (data: TypedData) => JSON.parse((data as { json: string }).json) as unknown;

describe('queue trigger on Azurite', () => {
  let service: QueueServiceClient;
  let env: Record<string, string>;
  let host: QueueTriggerHost | undefined;
  const logs: string[] = [];
  const fast: Partial<QueuesOptions> = { maxPollingIntervalMs: 200 };

  beforeAll(() => {
    const connectionString = inject('azuriteConnectionString');
    service = QueueServiceClient.fromConnectionString(connectionString);
    env = { TestStorage: connectionString };
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  const newQueue = () => `st-${randomBytes(5).toString('hex')}`;
  const start = (invoker: FunctionInvoker, queues: Partial<QueuesOptions> = {}, leaseMs?: number) =>
    (host = startQueueTriggers({
      invoker,
      env,
      log: (level, m) => logs.push(`${level}: ${m}`),
      queues: { ...fast, ...queues },
      leaseMs,
    }));
  const count = async (queueName: string) =>
    (await service.getQueueClient(queueName).getProperties()).approximateMessagesCount ?? -1;

  it('invokes with JSON as {json}, text as {string}, host-shaped metadata, and deletes on success', async () => {
    const queueName = newQueue();
    const { invoker, calls } = fakeInvoker([queueRegistration('onItem', queueName)], () => Promise.resolve());
    start(invoker);
    const queue = service.getQueueClient(queueName);
    await waitFor(async () => await queue.exists(), 'the listener to create the queue');
    const sentJson = await queue.sendMessage(b64(JSON.stringify({ job: 1, name: 'ünï' })));
    await waitFor(() => calls.length === 1, 'the JSON invocation');
    await queue.sendMessage(b64('plain text, not JSON'));
    await waitFor(() => calls.length === 2, 'the text invocation');

    const [first, second] = calls;
    expect(first?.trigger).toEqual({ json: '{"job":1,"name":"ünï"}' });
    expect(second?.trigger).toEqual({ string: 'plain text, not JSON' });
    const meta = first?.triggerMetadata ?? {};
    expect(meta.Id).toEqual({ string: sentJson.messageId });
    expect(meta.DequeueCount).toEqual({ json: '1' });
    expect(meta.QueueTrigger).toEqual({ string: '{"job":1,"name":"ünï"}' });
    expect(typeof (meta.PopReceipt as { string: string }).string).toBe('string');
    for (const key of ['InsertionTime', 'ExpirationTime', 'NextVisibleTime']) {
      const value = json(meta[key]);
      expect(value, key).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      expect(Number.isNaN(Date.parse(value as string))).toBe(false);
    }
    expect(json(meta.sys)).toMatchObject({ MethodName: 'onItem' });
    await waitFor(async () => (await count(queueName)) === 0, 'both messages to be deleted');
    // The invoker prints the one line per invocation; the trigger hands it the queue context.
    expect(calls.map((c) => c.logContext)).toEqual([
      expect.stringMatching(/^queue=st-.*, messageId=.*, dequeueCount=1$/),
      expect.stringMatching(/^queue=st-.*, messageId=.*, dequeueCount=1$/),
    ]);
  });

  it('moves an always-failing message to <queue>-poison after maxDequeueCount attempts, body intact', async () => {
    const queueName = newQueue();
    const { invoker, calls } = fakeInvoker([queueRegistration('alwaysFails', queueName)], () =>
      Promise.reject(new Error('boom')),
    );
    await service.getQueueClient(queueName).create();
    const body = b64(JSON.stringify({ poison: true, n: 42 }));
    await service.getQueueClient(queueName).sendMessage(body);
    start(invoker, { maxDequeueCount: 3, visibilityTimeoutMs: 0 });

    const poison = service.getQueueClient(`${queueName}-poison`);
    await waitFor(
      async () => (await poison.exists()) && (await count(`${queueName}-poison`)) === 1,
      'the poison message',
    );
    expect(calls.map((c) => json(c.triggerMetadata?.DequeueCount))).toEqual([1, 2, 3]);
    const peeked = await poison.peekMessages();
    expect(peeked.peekedMessageItems[0]?.messageText).toBe(body);
    expect(await count(queueName)).toBe(0);
    await sleep(500);
    expect(calls).toHaveLength(3);
    expect(
      logs.some((l) =>
        l.includes(
          `Message has reached MaxDequeueCount of 3. Moving message to queue '${queueName}-poison'.`,
        ),
      ),
    ).toBe(true);
    expect(calls.map((c) => c.logContext?.replace(/.*dequeueCount=/, ''))).toEqual(['1', '2', '3']);
  });

  it('releases a failed message with visibilityTimeout and succeeds on a later attempt', async () => {
    const queueName = newQueue();
    let attempts = 0;
    const { invoker, calls } = fakeInvoker([queueRegistration('flaky', queueName)], () =>
      ++attempts < 2 ? Promise.reject(new Error('transient')) : Promise.resolve(),
    );
    await service.getQueueClient(queueName).create();
    await service.getQueueClient(queueName).sendMessage(b64('retry me'));
    const startedAt = Date.now();
    start(invoker, { visibilityTimeoutMs: 1000 });
    await waitFor(() => calls.length === 2, 'the retry');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
    await waitFor(async () => (await count(queueName)) === 0, 'the message to be deleted');
    expect(await service.getQueueClient(`${queueName}-poison`).exists()).toBe(false);
  });

  it('moves a message that is not valid base64 straight to the poison queue, without invoking', async () => {
    const queueName = newQueue();
    const { invoker, calls } = fakeInvoker([queueRegistration('strict', queueName)], () => Promise.resolve());
    await service.getQueueClient(queueName).create();
    await service.getQueueClient(queueName).sendMessage('{"not":"base64"}');
    start(invoker);
    const poison = service.getQueueClient(`${queueName}-poison`);
    await waitFor(
      async () => (await poison.exists()) && (await count(`${queueName}-poison`)) === 1,
      'the poison message',
    );
    expect((await poison.peekMessages()).peekedMessageItems[0]?.messageText).toBe('{"not":"base64"}');
    expect(calls).toHaveLength(0);
  });

  it('passes plain text through with messageEncoding none', async () => {
    const queueName = newQueue();
    const { invoker, calls } = fakeInvoker([queueRegistration('plain', queueName)], () => Promise.resolve());
    await service.getQueueClient(queueName).create();
    await service.getQueueClient(queueName).sendMessage('{"a":[1,2]}');
    await service.getQueueClient(queueName).sendMessage('not json {');
    start(invoker, { messageEncoding: 'none' });
    await waitFor(() => calls.length === 2, 'two invocations');
    expect(calls.map((c) => c.trigger)).toEqual(
      expect.arrayContaining([{ json: '{"a":[1,2]}' }, { string: 'not json {' }]),
    );
  });

  it('keeps at most batchSize + newBatchThreshold invocations in flight', async () => {
    const queueName = newQueue();
    let inFlight = 0;
    let peak = 0;
    const { invoker, calls } = fakeInvoker([queueRegistration('bounded', queueName)], async () => {
      peak = Math.max(peak, ++inFlight);
      await sleep(300);
      inFlight--;
    });
    await service.getQueueClient(queueName).create();
    for (let i = 0; i < 10; i++) await service.getQueueClient(queueName).sendMessage(b64(`m${i}`));
    start(invoker, { batchSize: 2, newBatchThreshold: 1 });
    await waitFor(() => calls.length === 10, 'all ten invocations');
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('renews the lease of a long invocation so the message is not redelivered', async () => {
    const queueName = newQueue();
    const { invoker, calls } = fakeInvoker([queueRegistration('slow', queueName)], () => sleep(3500));
    await service.getQueueClient(queueName).create();
    await service.getQueueClient(queueName).sendMessage(b64('slow one'));
    start(invoker, {}, 2000);
    await waitFor(
      async () => calls.length === 1 && (await count(queueName)) === 0,
      'the slow message to complete',
      15_000,
    );
    expect(calls).toHaveLength(1);
    expect(logs.some((l) => l.includes('Renewing the lease') || l.includes('Completing message'))).toBe(
      false,
    );
  });

  it('stop() waits for in-flight invocations and completes their messages', async () => {
    const queueName = newQueue();
    let finished = false;
    const { invoker, calls } = fakeInvoker([queueRegistration('drain', queueName)], async () => {
      await sleep(700);
      finished = true;
    });
    await service.getQueueClient(queueName).create();
    await service.getQueueClient(queueName).sendMessage(b64('drain me'));
    const running = start(invoker);
    await waitFor(() => calls.length === 1, 'the invocation to start');
    await running.stop();
    expect(finished).toBe(true);
    expect(await count(queueName)).toBe(0);
  });

  it('names the function when its configuration is wrong', () => {
    const bad = fakeInvoker([queueRegistration('noConn', 'jobs', { connection: 'Nope' })], () =>
      Promise.resolve(),
    );
    expect(() => startQueueTriggers({ invoker: bad.invoker, env: {}, log: () => undefined })).toThrow(
      /Function "noConn": Storage connection "Nope"/,
    );
    expect(() => resolveQueueName('Bad_Name', 'f', {})).toThrow(/"bad_name" is not a valid queue name/);
    expect(resolveQueueName('%Q%', 'f', { Q: 'Work-Items' })).toBe('work-items');
  });

  it('decodes base64 like .NET Convert.FromBase64String', () => {
    expect(decodeBase64Strict('aGVsbG8=')?.toString()).toBe('hello');
    expect(decodeBase64Strict('aGVs\nbG8=')?.toString()).toBe('hello');
    expect(decodeBase64Strict('hello')).toBeUndefined();
    expect(decodeBase64Strict('aGVsbG8')).toBeUndefined();
  });
});
