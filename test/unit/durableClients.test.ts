import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDurableClientPayload } from '../../devhost/durable/bindingPayload.js';
import { sharedDurableClients } from '../../src/functions/durableClients.js';

const binding = df.input.durableClient();
const payload = (systemKey: string) =>
  buildDurableClientPayload({ origin: 'http://127.0.0.1:7071', taskHubName: 'Hub', systemKey });

/** An invocation context as the library builds it, with the durable client binding's value set. */
function invocation(value: unknown): InvocationContext {
  const context = new InvocationContext({ options: { extraInputs: [binding] } });
  context.extraInputs.set(binding, value);
  return context;
}

const hostname = process.env.WEBSITE_HOSTNAME;
afterEach(() => {
  if (hostname === undefined) delete process.env.WEBSITE_HOSTNAME;
  else process.env.WEBSITE_HOSTNAME = hostname;
});

describe('sharedDurableClients', () => {
  it('hands every invocation with the same binding the same client, and a new one when the binding changes', () => {
    process.env.WEBSITE_HOSTNAME = '127.0.0.1:7071';
    let built = 0;
    const getClient = sharedDurableClients((context) => {
      built += 1;
      return df.getClient(context);
    });
    const first = getClient(invocation(payload('key-1')));
    expect(getClient(invocation(payload('key-1')))).toBe(first);
    expect(built).toBe(1);
    // Rotated keys: a new client, whose links carry the new key.
    const rotated = getClient(invocation(payload('key-2')));
    expect(rotated).not.toBe(first);
    expect(rotated.createHttpManagementPayload('run-1').statusQueryGetUri).toContain('code=key-2');
    // The local-host link rewrite depends on WEBSITE_HOSTNAME, so a change there makes a new client too.
    process.env.WEBSITE_HOSTNAME = '0.0.0.0';
    const local = getClient(invocation(payload('key-2')));
    expect(local).not.toBe(rotated);
    expect(local.createHttpManagementPayload('run-1').statusQueryGetUri).toMatch(
      /^http:\/\/localhost:7071\//,
    );
    expect(built).toBe(3);
  });

  it('a function without a durable client binding gets the library error', () => {
    const getClient = sharedDurableClients(df.getClient);
    expect(() => getClient(new InvocationContext({ options: { extraInputs: [] } }))).toThrow(
      /Could not find a registered durable client input binding/,
    );
  });
});
