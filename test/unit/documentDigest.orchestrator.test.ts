import { describe, expect, it } from 'vitest';
import { composeDigest, summarizeParagraph } from '../../src/activities/documentDigest.js';
import {
  ACTIVITY_RETRY,
  MAX_INVALID_APPROVAL_EVENTS,
  SUMMARY_BATCH_SIZE,
  documentDigestOrchestrator,
} from '../../src/orchestrators/documentDigest.js';
import { Names } from '../../src/shared/names.js';
import {
  ComposeDigestInput,
  type DocumentDigestInput,
  SummarizeParagraphInput,
} from '../../src/shared/schemas.js';
import {
  type FakeTask,
  FakeOrchestrationContext,
  type Resolution,
  complete,
  drive,
} from '../fakes/orchestrationContext.js';

const NOW = new Date('2026-01-01T00:00:00.000Z');

const input: DocumentDigestInput = {
  title: 'Quarterly report',
  paragraphs: ['Revenue grew. It grew a lot.', 'Costs fell! Mostly rent.', 'Outlook is stable'],
};

type ApprovalScript = 'timer' | unknown[];

/** Resolves tasks like the runtime would, running the real activity logic; `approval` scripts the events. */
function runtime(approval: ApprovalScript = 'timer') {
  const events = Array.isArray(approval) ? [...approval] : [];
  const runActivity = (task: FakeTask): unknown => {
    if (task.name === Names.activities.summarizeParagraph) {
      return summarizeParagraph(SummarizeParagraphInput.parse(task.input), 40);
    }
    if (task.name === Names.activities.composeDigest)
      return composeDigest(ComposeDigestInput.parse(task.input));
    throw new Error(`unexpected activity ${task.name}`);
  };
  return (task: FakeTask): Resolution => {
    if (task.kind === 'activity') return { value: runActivity(task) };
    if (task.kind === 'all')
      return { value: (task.children ?? []).map((c) => complete(c, runActivity(c)).result) };
    const event = task.children?.find((c) => c.kind === 'event');
    const timer = task.children?.find((c) => c.kind === 'timer');
    if (task.kind !== 'any' || !event || !timer) throw new Error(`unexpected ${task.kind} yield`);
    if (events.length === 0) return { value: complete(timer, undefined) };
    return { value: complete(event, events.shift()) };
  };
}

const paragraphs = (n: number) => Array.from({ length: n }, (_, i) => `Paragraph ${i} starts here. More.`);

describe('documentDigestOrchestrator', () => {
  it('fans out one summary per paragraph, fans in, and composes the digest in document order', () => {
    const context = new FakeOrchestrationContext(input, NOW);
    const output = drive(documentDigestOrchestrator, context, runtime());

    const summarize = context.calls.filter((c) => c.name === Names.activities.summarizeParagraph);
    expect(summarize.map((c) => c.input)).toEqual(input.paragraphs.map((text, index) => ({ index, text })));
    expect(context.calls.at(-1)?.name).toBe(Names.activities.composeDigest);
    expect(output.approval).toEqual({ status: 'not-required' });
    expect(output.digest.outline.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(output.digest.summary).toBe('Revenue grew. Costs fell! Outlook is stable');
    expect(output.digest.wordCount).toBe(13);
  });

  it('schedules every activity with the retry policy', () => {
    const seen: FakeTask[] = [];
    const resolve = runtime();
    drive(documentDigestOrchestrator, new FakeOrchestrationContext(input, NOW), (task) => {
      if (task.kind === 'activity') seen.push(task);
      if (task.kind === 'all') seen.push(...(task.children ?? []));
      return resolve(task);
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((t) => t.retry === ACTIVITY_RETRY)).toBe(true);
    expect(ACTIVITY_RETRY.maxNumberOfAttempts).toBe(3);
  });

  it('reports progress as custom status', () => {
    const context = new FakeOrchestrationContext(input, NOW);
    drive(documentDigestOrchestrator, context, runtime());
    expect(context.customStatuses).toEqual([
      { step: 'summarizing', done: 0, total: 3 },
      { step: 'summarizing', done: 3, total: 3 },
      { step: 'composing', done: 3, total: 3 },
      { step: 'done', done: 3, total: 3 },
    ]);
  });

  it('fans out in batches, moving progress after each', () => {
    const total = 2 * SUMMARY_BATCH_SIZE + 5;
    const context = new FakeOrchestrationContext({ title: 'Long', paragraphs: paragraphs(total) }, NOW);
    const batches: number[] = [];
    const resolve = runtime();
    const output = drive(documentDigestOrchestrator, context, (task) => {
      if (task.kind === 'all') batches.push(task.children?.length ?? 0);
      return resolve(task);
    });
    expect(batches).toEqual([SUMMARY_BATCH_SIZE, SUMMARY_BATCH_SIZE, 5]);
    expect(context.customStatuses.filter((s) => (s as { step: string }).step === 'summarizing')).toEqual(
      [0, SUMMARY_BATCH_SIZE, 2 * SUMMARY_BATCH_SIZE, total].map((done) => ({
        step: 'summarizing',
        done,
        total,
      })),
    );
    expect(output.digest.outline.map((s) => s.index)).toEqual([...Array(total).keys()]);
  });

  it('replays deterministically: the same results twice schedule the same calls', () => {
    const withApproval = { ...input, approval: { required: true, timeout: 'PT1H' } };
    const runs = [0, 1].map(() => {
      const context = new FakeOrchestrationContext(withApproval, NOW);
      const output = drive(documentDigestOrchestrator, context, runtime([{ approved: true, by: 'ana' }]));
      return { calls: context.calls, statuses: context.customStatuses, output };
    });
    expect(runs[1]).toEqual(runs[0]);
  });

  it('waits for approval with a durable timer from orchestration time, and cancels it when approved', () => {
    const context = new FakeOrchestrationContext(
      { ...input, approval: { required: true, timeout: 'PT30M' } },
      NOW,
    );
    let timer: FakeTask | undefined;
    const resolve = runtime([{ approved: true, by: 'ana', comment: 'ship it' }]);
    const output = drive(documentDigestOrchestrator, context, (task) => {
      timer ??= task.children?.find((c) => c.kind === 'timer');
      return resolve(task);
    });
    expect(context.calls).toContainEqual({ kind: 'timer', fireAt: '2026-01-01T00:30:00.000Z' });
    expect(context.calls).toContainEqual({ kind: 'event', name: Names.events.approval });
    expect(timer?.isCanceled).toBe(true);
    expect(output.approval).toEqual({
      status: 'approved',
      decidedAt: NOW.toISOString(),
      by: 'ana',
      comment: 'ship it',
    });
    expect(context.customStatuses).toContainEqual({ step: 'awaiting-approval', done: 3, total: 3 });
  });

  it('records a rejection', () => {
    const context = new FakeOrchestrationContext(
      { ...input, approval: { required: true, timeout: 'PT1M' } },
      NOW,
    );
    const output = drive(documentDigestOrchestrator, context, runtime([{ approved: false }]));
    expect(output.approval).toMatchObject({ status: 'rejected' });
  });

  it('times out when no approval arrives', () => {
    const context = new FakeOrchestrationContext(
      { ...input, approval: { required: true, timeout: 'P1D' } },
      NOW,
    );
    const output = drive(documentDigestOrchestrator, context, runtime('timer'));
    expect(output.approval).toEqual({ status: 'timed-out', decidedAt: NOW.toISOString() });
  });

  it('ignores malformed approval events and keeps waiting until the same deadline, never re-yielding a task', () => {
    const approval = { required: true, timeout: 'PT5M' };
    const context = new FakeOrchestrationContext({ ...input, approval }, NOW);
    const yielded = new Set<FakeTask>();
    const resolve = runtime([{ approved: 'yes' }, { approved: true }]);
    const output = drive(documentDigestOrchestrator, context, (task) => {
      for (const child of task.children ?? []) {
        expect(yielded.has(child)).toBe(false);
        yielded.add(child);
      }
      return resolve(task);
    });
    expect(output.approval).toMatchObject({ status: 'approved' });
    expect(context.calls.filter((c) => c.kind === 'timer')).toEqual([
      { kind: 'timer', fireAt: '2026-01-01T00:05:00.000Z' },
      { kind: 'timer', fireAt: '2026-01-01T00:05:00.000Z' },
    ]);
    expect([...yielded].filter((t) => t.kind === 'timer').every((t) => t.isCanceled)).toBe(true);
    expect(context.warnings).toHaveLength(1);
  });

  it('gives up after too many malformed approval events', () => {
    const context = new FakeOrchestrationContext(
      { ...input, approval: { required: true, timeout: 'PT5M' } },
      NOW,
    );
    const junk = Array.from({ length: MAX_INVALID_APPROVAL_EVENTS + 1 }, () => 'junk');
    const output = drive(documentDigestOrchestrator, context, runtime(junk));
    expect(output.approval).toMatchObject({ status: 'rejected' });
  });

  it('fails the run when a summary fails after its retries', () => {
    const context = new FakeOrchestrationContext(input, NOW);
    const resolve = runtime();
    expect(() =>
      drive(documentDigestOrchestrator, context, (task) =>
        task.kind === 'all' ? { error: new Error('boom') } : resolve(task),
      ),
    ).toThrow('boom');
    expect(context.calls.some((c) => c.name === Names.activities.composeDigest)).toBe(false);
  });

  it('rejects input that skipped the HTTP starter', () => {
    const context = new FakeOrchestrationContext({ title: 'x', paragraphs: [] }, NOW);
    expect(() => drive(documentDigestOrchestrator, context, runtime())).toThrow();
    expect(context.calls).toEqual([]);
  });
});
