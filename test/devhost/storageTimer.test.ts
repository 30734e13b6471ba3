import { describe, expect, it } from 'vitest';
import type {
  FunctionInvoker,
  FunctionRegistration,
  InvocationInput,
} from '../../devhost/functions/types.js';
import {
  nextOccurrences,
  parseSchedule,
  startTimerTriggers,
  type TimerInfoPayload,
} from '../../devhost/timerTrigger.js';

const at = (iso: string) => new Date(iso);

describe('timer schedules', () => {
  it.each([
    ['*/5 * * * * *', '2024-01-01T00:00:03Z', ['2024-01-01T00:00:05Z', '2024-01-01T00:00:10Z']],
    ['0 */5 * * * *', '2024-01-01T00:07:00Z', ['2024-01-01T00:10:00Z', '2024-01-01T00:15:00Z']],
    ['0 0 * * * *', '2024-01-01T10:00:00Z', ['2024-01-01T11:00:00Z', '2024-01-01T12:00:00Z']],
    [
      '10/20 * * * * *',
      '2024-01-01T00:00:00Z',
      ['2024-01-01T00:00:10Z', '2024-01-01T00:00:30Z', '2024-01-01T00:00:50Z', '2024-01-01T00:01:10Z'],
    ],
    [
      '0 15,45 9-10 * * *',
      '2024-01-01T09:20:00Z',
      ['2024-01-01T09:45:00Z', '2024-01-01T10:15:00Z', '2024-01-01T10:45:00Z', '2024-01-02T09:15:00Z'],
    ],
    ['0 30 9 * * 1-5', '2024-01-05T10:00:00Z', ['2024-01-08T09:30:00Z', '2024-01-09T09:30:00Z']],
    ['0 30 9 * * MON-FRI', '2024-01-06T00:00:00Z', ['2024-01-08T09:30:00Z']],
    ['0 0 12 * * sun', '2024-01-01T00:00:00Z', ['2024-01-07T12:00:00Z', '2024-01-14T12:00:00Z']],
    ['0 0 0 1 JAN,jul *', '2024-03-15T00:00:00Z', ['2024-07-01T00:00:00Z', '2025-01-01T00:00:00Z']],
    ['0 0 0 29 2 *', '2024-03-01T00:00:00Z', ['2028-02-29T00:00:00Z']],
    ['0 0 0 31 * *', '2024-01-31T00:00:00Z', ['2024-03-31T00:00:00Z', '2024-05-31T00:00:00Z']],
    ['0 0 0 13 * 5', '2024-01-01T00:00:00Z', ['2024-09-13T00:00:00Z']], // NCrontab ANDs day and day-of-week
    ['0 0 0 1 1 *', '2024-12-31T23:59:59.999Z', ['2025-01-01T00:00:00Z']],
    ['30 9 * * *', '2024-01-01T09:29:59Z', ['2024-01-01T09:30:00Z', '2024-01-02T09:30:00Z']], // 5 fields: second 0
    ['00:05:00', '2024-01-01T00:00:03Z', ['2024-01-01T00:05:03Z', '2024-01-01T00:10:03Z']],
    ['1.00:00:00', '2024-01-01T06:00:00Z', ['2024-01-02T06:00:00Z']],
  ])('%s after %s', (expression, from, expected) => {
    const schedule = parseSchedule(expression, {});
    expect(nextOccurrences(schedule, at(from), expected.length).map((d) => d.toISOString())).toEqual(
      expected.map((e) => at(e).toISOString()),
    );
  });

  it('reports kind and adjustForDST like the host', () => {
    expect(parseSchedule('0 * * * * *', {})).toMatchObject({ kind: 'cron', adjustForDST: true });
    expect(parseSchedule('00:00:10', {})).toMatchObject({ kind: 'timespan', adjustForDST: false });
  });

  it('resolves %AppSetting% schedules', () => {
    expect(parseSchedule('%Every%', { Every: '0 0 * * * *' }).expression).toBe('0 0 * * * *');
    expect(() => parseSchedule('%Missing%', {})).toThrow(/app setting Missing is not set/);
  });

  it.each([
    ['* * * *', /expected 6 fields/],
    ['60 * * * * *', /second value "60" is not in 0-59/],
    ['0 0 25 * * *', /hour value "25"/],
    ['0 0 0 * 13 *', /month value "13"/],
    ['0 0 0 * * 7', /day-of-week value "7" is not in 0-6/],
    ['5-1 * * * * *', /range "5-1" is reversed/],
    ['*/0 * * * * *', /bad second step/],
    ['a b c d e f', /second value "a"/],
    ['00:00:00', /TimeSpan must be positive/],
  ])('rejects %j', (expression, message) => {
    expect(() => parseSchedule(expression, {})).toThrow(message);
  });

  it('rejects a schedule that never fires when asked for its next occurrence', () => {
    expect(() => parseSchedule('0 0 0 30 2 *', {}).nextAfter(at('2024-01-01T00:00:00Z'))).toThrow(
      /no occurrence within 10 years/,
    );
  });
});

describe('timer trigger host', () => {
  function timerRegistration(name: string, schedule: string, runOnStartup = false): FunctionRegistration {
    const trigger = { type: 'timerTrigger', direction: 'in' as const, name: 'timer', schedule, runOnStartup };
    return {
      name,
      triggerType: 'timerTrigger',
      triggerBindingName: 'timer',
      trigger,
      bindings: { timer: trigger },
    };
  }

  it('runs on startup, then on schedule, with the TimerInfo payload the library camel-cases', async () => {
    const calls: { name: string; input: InvocationInput }[] = [];
    const invoker: FunctionInvoker = {
      registrations: new Map([['tick', timerRegistration('tick', '*/1 * * * * *', true)]]),
      invoke: (name, input) => {
        calls.push({ name, input });
        return Promise.resolve({ outputData: [] });
      },
    };
    const logs: string[] = [];
    const host = startTimerTriggers({ invoker, env: {}, log: (_l, m) => logs.push(m) });
    try {
      const deadline = Date.now() + 5000;
      while (calls.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await host.stop();
    }
    expect(calls.length).toBeGreaterThanOrEqual(3);
    const payloads = calls.map(
      (c) => JSON.parse((c.input.trigger as { json: string }).json) as TimerInfoPayload,
    );
    const [startup, first, second] = payloads;
    expect(startup).toMatchObject({
      Schedule: { AdjustForDST: true },
      IsPastDue: false,
      ScheduleStatus: { Last: '0001-01-01T00:00:00' },
    });
    expect(first?.ScheduleStatus.Next).toMatch(/\.000Z$/);
    expect(second?.ScheduleStatus.Last).toBe(first?.ScheduleStatus.Next);
    expect(
      Date.parse(second?.ScheduleStatus.Next ?? '') - Date.parse(first?.ScheduleStatus.Next ?? ''),
    ).toBeGreaterThanOrEqual(1000);
    expect(calls[0]?.input.logContext).toMatch(/^timer, next=\d{4}-/);
    const countAfterStop = calls.length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(calls.length).toBe(countAfterStop);
  });

  it('names the function with an invalid schedule', () => {
    const invoker: FunctionInvoker = {
      registrations: new Map([['bad', timerRegistration('bad', '0 0 99 * * *')]]),
      invoke: () => Promise.resolve({ outputData: [] }),
    };
    expect(() => startTimerTriggers({ invoker, env: {}, log: () => undefined })).toThrow(
      /Function "bad": Invalid schedule "0 0 99 \* \* \*": hour/,
    );
  });

  it('uses the injected clock to compute the next occurrence', async () => {
    const invoker: FunctionInvoker = {
      registrations: new Map([['daily', timerRegistration('daily', '0 0 6 * * *')]]),
      invoke: () => Promise.resolve({ outputData: [] }),
    };
    const host = startTimerTriggers({
      invoker,
      env: {},
      log: () => undefined,
      now: () => at('2030-05-01T07:00:00Z'),
    });
    expect(host.timers[0]?.next()?.toISOString()).toBe('2030-05-02T06:00:00.000Z');
    await host.stop();
  });
});
