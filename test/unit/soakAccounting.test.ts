import { describe, expect, it } from 'vitest';
import { EffectLog, formatTable, SoakLedger, type TrackedRun } from '../../scripts/lib/soakAccounting.js';

/** The soak's bookkeeping (scripts/soak.ts) on synthetic runs and side effects. */
const run = (id: string, extra: Partial<TrackedRun> = {}): TrackedRun => ({
  id,
  workflow: 'ticket-triage',
  entry: 'http',
  callback: false,
  ...extra,
});
const found = (status: string, outcome: string | null = null, errorKind: string | null = null) =>
  ({ kind: 'found', status, outcome, errorKind }) as const;

describe('soak ledger', () => {
  it('counts a run never seen finished as running during the soak and lost at the end', () => {
    const ledger = new SoakLedger();
    ledger.start(run('never-seen', { entry: 'queue' }));
    ledger.start(run('stuck'));
    ledger.observe('stuck', found('Running'));
    ledger.start(run('done'));
    ledger.observe('done', found('Running'));
    ledger.observe('done', found('Completed', 'completed'));

    expect(ledger.verdict('never-seen', false)).toBe('running');
    expect(ledger.verdict('stuck', false)).toBe('running');
    expect(ledger.verdict('never-seen', true)).toBe('lost');
    expect(ledger.verdict('stuck', true)).toBe('lost');
    expect(ledger.verdict('done', true)).toBe('completed');
    expect(ledger.pending().map((r) => r.id)).toEqual(['never-seen', 'stuck']);
    expect(ledger.summary(true).get('total')).toMatchObject({
      started: 3,
      completed: 1,
      lost: 2,
      running: 0,
    });
    expect(ledger.problems(true)).toHaveLength(2);
  });

  it('counts a run that vanished after it was seen as lost, even if it had finished', () => {
    const ledger = new SoakLedger();
    ledger.start(run('finished-then-gone'));
    ledger.observe('finished-then-gone', found('Completed', 'completed'));
    ledger.observe('finished-then-gone', { kind: 'missing' });
    ledger.start(run('running-then-gone'));
    ledger.observe('running-then-gone', found('Running'));
    ledger.observe('running-then-gone', { kind: 'missing' });
    // A later reading that finds it again does not undo the disappearance.
    ledger.observe('running-then-gone', found('Completed', 'completed'));

    expect(ledger.verdict('finished-then-gone', false)).toBe('lost');
    expect(ledger.verdict('running-then-gone', true)).toBe('lost');
    expect(ledger.pending()).toEqual([]);
    expect(ledger.problems(true).join('\n')).toMatch(/vanished after it was seen/);
  });

  it('tells failures the soak caused from the others', () => {
    const ledger = new SoakLedger();
    ledger.start(run('rejected', { workflow: 'research-report', decision: 'reject' }));
    ledger.observe('rejected', found('Failed', 'failed', 'approval_rejected'));
    ledger.start(run('approved-but-rejected', { workflow: 'research-report', decision: 'approve' }));
    ledger.observe('approved-but-rejected', found('Failed', 'failed', 'approval_rejected'));
    ledger.start(run('fault'));
    ledger.observe('fault', found('Failed', 'failed', 'rate_limited'));
    ledger.start(run('bug'));
    ledger.observe('bug', found('Failed', 'failed', 'sandbox_crashed'));
    ledger.start(run('over-budget'));
    ledger.observe('over-budget', found('Completed', 'budget_exceeded', null));
    ledger.start(run('batch', { entry: 'batch' }));
    ledger.observe('batch', found('Completed', null));

    expect(ledger.verdict('rejected', true)).toBe('failed_expected');
    expect(ledger.verdict('approved-but-rejected', true)).toBe('failed_unexpected');
    expect(ledger.verdict('fault', true)).toBe('failed_expected');
    expect(ledger.verdict('bug', true)).toBe('failed_unexpected');
    expect(ledger.verdict('over-budget', true)).toBe('failed_unexpected');
    expect(ledger.verdict('batch', true)).toBe('completed');
    const summary = ledger.summary(true);
    expect(summary.get('research-report')).toMatchObject({ failed_expected: 1, failed_unexpected: 1 });
    expect(summary.get('ticket-triage (batch)')).toMatchObject({ started: 1, completed: 1 });
    expect([...summary.keys()].at(-1)).toBe('total');
    expect(ledger.failureKinds()).toEqual(
      new Map([
        ['approval_rejected', 2],
        ['rate_limited', 1],
        ['sandbox_crashed', 1],
        ['Completed', 1],
      ]),
    );
  });

  it('refuses a run started twice and an observation of a run it did not start', () => {
    const ledger = new SoakLedger();
    ledger.start(run('a'));
    expect(() => ledger.start(run('a'))).toThrow(/started twice/);
    expect(() => ledger.observe('b', { kind: 'missing' })).toThrow(/did not start/);
  });
});

describe('side-effect log', () => {
  it('counts the same content twice as a repeat and different content as a duplicate', () => {
    const log = new EffectLog();
    log.record('run-1', '{"status":"Completed"}');
    log.record('run-1', Buffer.from('{"status":"Completed"}'));
    log.record('run-2', '{"status":"Completed"}');
    log.record('run-2', '{"status":"Failed"}');
    log.record('run-2', '{"status":"Failed"}');
    log.record('run-3', 'once');

    expect(log.size).toBe(3);
    expect(log.has('run-3')).toBe(true);
    expect(log.has('run-4')).toBe(false);
    expect(log.repeated()).toEqual([
      { key: 'run-1', times: 2, distinct: 1 },
      { key: 'run-2', times: 3, distinct: 2 },
    ]);
    expect(log.duplicates()).toEqual([{ key: 'run-2', times: 3, distinct: 2 }]);
  });
});

describe('table', () => {
  it('aligns columns and underlines the header', () => {
    expect(
      formatTable([
        ['name', 'n'],
        ['total', '12'],
        ['a', '3'],
      ]),
    ).toBe(['name    n', '-----  --', 'total  12', 'a       3'].join('\n'));
    expect(
      formatTable(
        [
          ['k', 'v'],
          ['seed', '7 (x)'],
        ],
        'left',
      ),
    ).toBe(['k     v', '----  -----', 'seed  7 (x)'].join('\n'));
  });
});
