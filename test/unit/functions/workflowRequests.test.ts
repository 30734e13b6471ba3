import { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import type { PoisonEntry } from '../../../src/functions/queue/poisonQueue.js';
import { createWorkflowRequestsHandler } from '../../../src/functions/queue/workflowRequests.js';
import type { RunStarter, StartedRun } from '../../../src/functions/runStarter.js';
import type { RunWorkflowInput } from '../../../src/shared/runTypes.js';

/** The queue handler on its own: which messages go straight to poison, and with which reason. */
function handlerWith(started: StartedRun) {
  const poisoned: PoisonEntry[] = [];
  const starts: string[] = [];
  const starter = {
    prepare: (request: { workflow: string; input: unknown }) =>
      Promise.resolve({ kind: 'ready', input: { input: request.input } as RunWorkflowInput }),
    start: (_client: unknown, _input: unknown, instanceId?: string) => {
      starts.push(instanceId ?? '');
      return Promise.resolve(started);
    },
  } as unknown as RunStarter;
  const handler = createWorkflowRequestsHandler({
    starter,
    getClient: () => ({}) as never,
    poison: {
      queueName: 'wr-poison',
      send: (entry) => {
        poisoned.push(entry);
        return Promise.resolve();
      },
    },
    blobExists: () => Promise.resolve(true),
    resultsContainer: () => 'results',
    allowedContainers: () => ['batches'],
    queueName: 'wr',
  });
  const context = (text: string) =>
    new InvocationContext({
      functionName: 'workflowRequests',
      triggerMetadata: { id: 'm-1', dequeueCount: 1, queueTrigger: text },
      logHandler: () => {},
    });
  return { handler, poisoned, starts, context };
}

describe('queue messages that can never succeed go to poison at once, with the reason', () => {
  it('20,000 levels of nesting: refused before parsing, nothing thrown (so no retries)', async () => {
    const { handler, poisoned, starts, context } = handlerWith({ instanceId: 'x' });
    const text = `{"workflow":"ticket-triage","input":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    await expect(handler(Buffer.from(text), context(text))).resolves.toBeUndefined();
    expect(starts).toEqual([]);
    expect(poisoned).toHaveLength(1);
    expect(poisoned[0]?.reason).toMatch(
      /^the message is refused: the JSON nests arrays and objects deeper than 32 levels/,
    );
    expect(poisoned[0]?.originalBody).toBe(text);
  });

  it('invalid UTF-8: refused with the byte named, the exact bytes kept in base64', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"workflow":"ticket-triage","input":{"subject":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}}'),
    ]);
    const { handler, poisoned, starts, context } = handlerWith({ instanceId: 'x' });
    await handler(bytes, context(bytes.toString('utf8')));
    expect(starts).toEqual([]);
    expect(poisoned[0]?.reason).toMatch(
      /^the message is refused: the text is not valid UTF-8 \(byte 49 is 0x28\)/,
    );
    expect(Buffer.from(poisoned[0]?.originalBodyBase64 ?? '', 'base64').equals(bytes)).toBe(true);
  });

  it('valid bytes start the run; a key reused with another request names the run it started', async () => {
    const text = JSON.stringify({ workflow: 'ticket-triage', input: { a: 'ü' }, idempotencyKey: 'k-1' });
    const fine = handlerWith({ instanceId: 'run-1' });
    await fine.handler(Buffer.from(text), fine.context(text));
    expect(fine.poisoned).toEqual([]);
    expect(fine.starts).toHaveLength(1);

    const reused = handlerWith({ instanceId: 'run-1', existing: {} as never, differentRequest: true });
    await reused.handler(Buffer.from(text), reused.context(text));
    expect(reused.poisoned[0]?.reason).toBe(
      'idempotencyKey "k-1" already started run run-1 with a different request; use a new key for a new run',
    );
  });
});

describe('the guard in front of @azure/functions', () => {
  it('hands deep metadata strings over as bytes, only for the guarded functions', async () => {
    const { guardedModel } = await import('../../../src/functions/queue/deepMessageGuard.js');
    const seen: unknown[] = [];
    const model = guardedModel(
      { getInvocationModel: (context) => seen.push(structuredClone(context.request.triggerMetadata)) },
      ['workflowRequests'],
    );
    const deep = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
    const context = (name: string) => ({
      metadata: { name },
      request: { triggerMetadata: { QueueTrigger: { string: deep }, Id: { string: 'm-1' } } },
    });
    model.getInvocationModel(context('WorkflowRequests'));
    model.getInvocationModel(context('other'));
    expect(seen[0]).toEqual({
      QueueTrigger: { bytes: new Uint8Array(Buffer.from(deep)) },
      Id: { string: 'm-1' },
    });
    expect(seen[1]).toEqual({ QueueTrigger: { string: deep }, Id: { string: 'm-1' } });
  });
});
