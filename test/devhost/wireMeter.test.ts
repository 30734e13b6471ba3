import { afterEach, describe, expect, it } from 'vitest';
import type { FunctionInvoker } from '../../devhost/functions/types.js';
import { droppedActionInputChars, inputFieldChars } from '../../devhost/durable/wireMeter.js';
import { engineAppInvoker, openEngine, started, waitForStatus, type EngineHandle } from './engineHarness.js';

/** Records the length of every replay payload and orchestrator answer that crosses the invoker. */
async function countingInvoker(): Promise<{ invoker: FunctionInvoker; sent: number[]; received: number[] }> {
  const inner = await engineAppInvoker();
  const sent: number[] = [];
  const received: number[] = [];
  const invoker: FunctionInvoker = {
    registrations: inner.registrations,
    async invoke(name, input) {
      const out = await inner.invoke(name, input);
      if (inner.registrations.get(name)?.triggerType === 'orchestrationTrigger') {
        sent.push(input.trigger && 'json' in input.trigger ? input.trigger.json.length : NaN);
        received.push(out.returnValue && 'json' in out.returnValue ? out.returnValue.json.length : NaN);
      }
      return out;
    },
  };
  return { invoker, sent, received };
}

describe('the wire meter', () => {
  let handle: EngineHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });

  it('counts what devhost exchanged and adds back every input it left out, as the extension sends them', async () => {
    const { invoker, sent, received } = await countingInvoker();
    handle = await openEngine({ invoker });
    const { engine } = handle;
    const input = { document: 'x'.repeat(5_000) };
    const id = started(engine.start({ orchestratorName: 'sequence', input }));
    await waitForStatus(engine, id, 'Completed');
    const totals = engine.wireTotals();

    // test/fixtures/engine-app `sequence`: three activities one after the other, so four episodes.
    expect(totals.episodes).toBe(4);
    expect(sent).toHaveLength(4);
    expect(totals.sentChars).toBe(sent.reduce((a, b) => a + b, 0));
    expect(totals.receivedChars).toBe(received.reduce((a, b) => a + b, 0));

    // Episode k replays ExecutionStarted (the orchestration input) and the k-1 TaskScheduled before it,
    // each with its Input, which devhost leaves out; the answer lists the k-1 known actions' inputs too.
    const started_ = inputFieldChars(JSON.stringify(input));
    const scheduled = ['"Tokyo"', '"Seattle"', '{"n":3}'].map(inputFieldChars);
    const [t1 = 0, t2 = 0, t3 = 0] = scheduled;
    expect(totals.extensionSentChars - totals.sentChars).toBe(4 * started_ + 3 * t1 + 2 * t2 + t3);
    // durable-functions' Utils.processInput JSON-encodes string inputs once more.
    const [a1 = 0, a2 = 0, a3 = 0] = ['"Tokyo"', '"Seattle"', { n: 3 }].map((input) =>
      droppedActionInputChars({ actionType: 0, input }),
    );
    expect(totals.extensionReceivedChars - totals.receivedChars).toBe(3 * a1 + 2 * a2 + a3);
    expect([a1, a2, a3]).toEqual([7, 9, 3]);
    // The orchestration input alone is resent on every episode: 4 × 5,000 characters at least.
    expect(totals.extensionSentChars - totals.sentChars).toBeGreaterThan(4 * 5_000);
  });

  it('counts an input the SDK left undefined as the "null" devhost added to the answer', async () => {
    const { invoker } = await countingInvoker();
    handle = await openEngine({ invoker });
    const { engine } = handle;
    // `steps` calls `noop` with no input: durable-functions keeps the key with undefined, JSON omits it,
    // and the stored TaskScheduled carries Input "null", which the replay payload leaves out.
    const id = started(engine.start({ orchestratorName: 'steps', input: 3 }));
    await waitForStatus(engine, id, 'Completed');
    const totals = engine.wireTotals();
    expect(totals.episodes).toBe(4);
    expect(totals.extensionReceivedChars - totals.receivedChars).toBe(
      -(0 + 1 + 2 + 3) * ',"input":null'.length,
    );
    expect(totals.extensionSentChars - totals.sentChars).toBe(
      4 * inputFieldChars('3') + (0 + 1 + 2 + 3) * inputFieldChars('null'),
    );
  });
});
