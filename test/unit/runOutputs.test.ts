import { InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { createRunOutputReader } from '../../src/activities/runOutputs.js';
import type {
  DurableInstance,
  DurableManagement,
  InstancePageRequest,
} from '../../src/operator/durableManagement.js';

const instance = (instanceId: string, output: unknown): DurableInstance => ({
  name: 'runWorkflow',
  instanceId,
  runtimeStatus: 'Completed',
  input: null,
  customStatus: null,
  output,
  createdTime: '2026-01-01T00:00:00Z',
  lastUpdatedTime: '2026-01-01T00:00:01Z',
});
const result = (value: unknown) => ({ outcome: 'completed', output: value, ledger: {} });

describe('createRunOutputReader', () => {
  it('lists the runs page by page, then reads the ones the listing missed directly', async () => {
    const listed: InstancePageRequest[] = [];
    const direct: [string, boolean | undefined][] = [];
    const pages: DurableInstance[][] = [
      [instance('b:1', result({ n: 1 })), instance('b:page0:lane0', [])],
      [instance('b:2', result(null)), instance('b:9', result({ n: 9 }))],
    ];
    const management: DurableManagement = {
      listInstances: (request) => {
        listed.push(request);
        const at = Number(request.continuationToken ?? 0);
        return Promise.resolve({
          instances: pages[at] ?? [],
          ...(at + 1 < pages.length ? { continuationToken: String(at + 1) } : {}),
        });
      },
      getInstance: (id, options) => {
        direct.push([id, options?.input]);
        if (id === 'b:3') return Promise.resolve(instance('b:3', result('three')));
        if (id === 'b:4') return Promise.resolve({ ...instance('b:4', 'boom'), runtimeStatus: 'Failed' });
        return Promise.resolve(undefined);
      },
      operate: () => Promise.reject(new Error('not used')),
      raiseEvent: () => Promise.reject(new Error('not used')),
    };
    // The client's own getStatus would read each run's input too (showInput=false is dropped on the RPC path).
    const client = {
      getStatus: () => Promise.reject(new Error('getStatus must not be used')),
    } as unknown as DurableClient;
    const read = createRunOutputReader({ getClient: () => client, management: () => management });

    const createdFrom = new Date('2026-01-01T00:00:00Z');
    const outputs = await read(
      { instanceIdPrefix: 'b:', createdFrom, instanceIds: ['b:1', 'b:2', 'b:3', 'b:4', 'b:5'] },
      new InvocationContext(),
    );
    expect([...outputs]).toEqual([
      ['b:1', { n: 1 }],
      ['b:2', null],
      ['b:3', 'three'],
    ]);
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatchObject({
      instanceIdPrefix: 'b:',
      createdTimeFrom: createdFrom,
      runtimeStatus: ['Completed'],
      showInput: false,
    });
    expect(listed[1]?.continuationToken).toBe('1');
    // Only the runs the listing did not show are read one by one, without their inputs; a failed or
    // unknown run has no output.
    expect(direct.sort()).toEqual([
      ['b:3', false],
      ['b:4', false],
      ['b:5', false],
    ]);
  });

  it('stops listing once every wanted run is found, and asks nothing for no runs', async () => {
    let calls = 0;
    const management: DurableManagement = {
      listInstances: () => {
        calls += 1;
        return Promise.resolve({ instances: [instance('b:1', result(1))], continuationToken: 'more' });
      },
      getInstance: () => Promise.reject(new Error('not used')),
      operate: () => Promise.reject(new Error('not used')),
      raiseEvent: () => Promise.reject(new Error('not used')),
    };
    const read = createRunOutputReader({
      getClient: () => ({}) as DurableClient,
      management: () => management,
    });
    const request = { instanceIdPrefix: 'b:', createdFrom: new Date(0) };
    expect(await read({ ...request, instanceIds: ['b:1'] }, new InvocationContext())).toEqual(
      new Map([['b:1', 1]]),
    );
    expect(calls).toBe(1);
    expect(await read({ ...request, instanceIds: [] }, new InvocationContext())).toEqual(new Map());
    expect(calls).toBe(1);
  });
});
