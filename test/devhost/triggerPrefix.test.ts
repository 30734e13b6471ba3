import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HeldPrefixes, SentPrefixes } from '../../devhost/functions/triggerPrefix.js';
import { WorkerInvoker } from '../../devhost/functions/workerInvoker.js';

/** A replay payload as episode.ts lays it out: the history so far is the stable prefix. */
function payload(events: string[]): { text: string; chars: number } {
  const stable = `{"history":[${events.join(',')}`;
  return {
    text: `${stable}${events.length > 0 ? ',' : ''}{"new":true}],"input":null}`,
    chars: stable.length,
  };
}

const event = (i: number) => JSON.stringify({ EventType: 4, EventId: i, Name: `step ${i}`, IsPlayed: false });

describe('trigger prefixes (host side and worker side)', () => {
  it('sends only what the worker lacks, and the worker puts back the exact text', () => {
    const sent = new SentPrefixes();
    const held = new HeldPrefixes();
    const events: string[] = [];
    let sentChars = 0;
    let wholeChars = 0;
    for (let i = 0; i < 50; i++) {
      const { text, chars } = payload(events);
      const message = sent.send(text, 'run-1#1', chars);
      expect(held.join(message)).toBe(text);
      if (i > 0) expect(message.reuse).toBeGreaterThan(0);
      sentChars += message.rest.length;
      wholeChars += text.length;
      events.push(event(i), event(i + 1000));
    }
    // 50 payloads growing by two events each: whole, they add up quadratically; as sent, linearly.
    expect(sentChars * 10).toBeLessThan(wholeChars);
    expect(sent.heldChars).toBe(payload(events.slice(0, -2)).chars);
  });

  it('starts over for a new key, and the worker drops a forgotten one with the next message', () => {
    const sent = new SentPrefixes();
    const held = new HeldPrefixes();
    const first = payload([event(1), event(2)]);
    held.join(sent.send(first.text, 'run-1#1', first.chars));
    sent.forget('run-1#1');
    // The history was rewritten (rewind): the runner uses a new key, so nothing is reused.
    const rewritten = payload([event(1)]);
    const message = sent.send(rewritten.text, 'run-1#2', rewritten.chars);
    expect(message.reuse).toBe(0);
    expect(message.drop).toEqual(['run-1#1']);
    expect(held.join(message)).toBe(rewritten.text);
    expect(held.size).toBe(1);
  });

  it('never reuses a prefix longer than the text marks as stable', () => {
    const sent = new SentPrefixes();
    const held = new HeldPrefixes();
    const long = payload([event(1), event(2), event(3)]);
    held.join(sent.send(long.text, 'k', long.chars));
    const short = payload([event(1)]);
    const message = sent.send(short.text, 'k', short.chars);
    expect(message.reuse).toBe(0);
    expect(held.join(message)).toBe(short.text);
  });

  it('drops the least recently used prefixes past its budget, on both sides', () => {
    const sent = new SentPrefixes(100);
    const held = new HeldPrefixes();
    const text = `${'x'.repeat(60)}tail`;
    held.join(sent.send(text, 'a', 60));
    held.join(sent.send(text, 'b', 60));
    expect(sent.has('a')).toBe(false);
    expect(sent.has('b')).toBe(true);
    expect(sent.heldChars).toBe(60);
    expect(held.size).toBe(1);
    // `a` comes back whole, not as a reuse of a prefix the worker dropped.
    const again = sent.send(text, 'a', 60);
    expect(again.reuse).toBe(0);
    expect(held.join(again)).toBe(text);
  });

  it('names the key when the host asks to reuse what the worker does not hold', () => {
    const held = new HeldPrefixes();
    expect(() => held.join({ key: 'run-9#3', reuse: 12, rest: '}', keep: 0, drop: [] })).toThrow(
      'the host reused 12 characters held under run-9#3, but this worker holds none',
    );
  });
});

describe('trigger prefixes through language worker threads', () => {
  let invoker: WorkerInvoker | undefined;
  afterEach(async () => {
    await invoker?.stop();
    invoker = undefined;
  });

  it('the function receives the whole trigger value on every invocation, across two workers', async () => {
    invoker = await WorkerInvoker.start(path.resolve(__dirname, '../fixtures/prefix-app'), {
      count: 2,
      log: () => {},
    });
    const running = invoker;
    const events: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { text, chars } = payload(events);
      // Two at once, so both workers see the key and hold (different lengths of) its prefix.
      const outputs = await Promise.all(
        [0, 1].map(() =>
          running.invoke('echo', { trigger: { json: text }, triggerPrefix: { key: 'run-1#1', chars } }),
        ),
      );
      for (const output of outputs) {
        const returned = output.returnValue;
        expect(returned && 'json' in returned ? JSON.parse(returned.json) : undefined).toEqual(
          JSON.parse(text),
        );
      }
      events.push(event(i));
    }
    running.forgetTriggerPrefix('run-1#1');
    const { text } = payload(events);
    const output = await running.invoke('echo', {
      trigger: { json: text },
      triggerPrefix: { key: 'run-1#2', chars: 5 },
    });
    expect(output.returnValue).toEqual({ json: JSON.stringify(JSON.parse(text)) });
  });
});
