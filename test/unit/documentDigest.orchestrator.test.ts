import { describe, expect, it } from 'vitest';
import { composeDigest, summarizeParagraph } from '../../src/activities/documentDigest.js';
import {
  ACTIVITY_RETRY,
  MAX_INVALID_APPROVAL_EVENTS,
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
  fail,
} from '../fakes/orchestrationContext.js';

const NOW = new Date('2026-01-01T00:00:00.000Z');

const input: DocumentDigestInput = {
  title: 'Quarterly report',
  paragraphs: ['Revenue grew. It grew a lot.', 'Costs fell! Mostly rent.', 'Outlook is stable'],
};

type ApprovalScript = 'timer' | unknown[];

/**
 * Resolves tasks like the runtime would, running the real activity logic. Parallel summaries
 * finish last-scheduled-first, to prove the digest does not depend on completion order.
 */
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
    if (task.kind !== 'any' || !task.children) throw new Error(`unexpected ${task.kind} yield`);
    const summaries = task.children.filter((c) => c.kind === 'activity');
    const last = summaries.at(-1);
    if (last) return { value: complete(last, runActivity(last)) };
    const event = task.children.find((c) => c.kind === 'event');
    const timer = task.children.find((c) => c.kind === 'timer');
    if (!event || !timer) throw new Error('approval wait must race an event against a timer');
    if (events.length === 0) return { value: complete(timer, undefined) };
    return { value: complete(event, events.shift()) };
  };
}

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
      task.children?.forEach((c) => seen.push(c));
      return resolve(task);
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((t) => t.retry === ACTIVITY_RETRY)).toBe(true);
    expect(ACTIVITY_RETRY.maxNumberOfAttempts).toBe(3);
  });

  it('reports progress as custom status after every paragraph', () => {
    const context = new FakeOrchestrationContext(input, NOW);
    drive(documentDigestOrchestrator, context, runtime());
    expect(context.customStatuses).toEqual([
      { step: 'summarizing', done: 0, total: 3 },
      { step: 'summarizing', done: 1, total: 3 },
      { step: 'summarizing', done: 2, total: 3 },
      { step: 'summarizing', done: 3, total: 3 },
      { step: 'composing', done: 3, total: 3 },
      { step: 'done', done: 3, total: 3 },
    ]);
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

  it('ignores malformed approval events and keeps waiting on the same timer', () => {
    const context = new FakeOrchestrationContext(
      { ...input, approval: { required: true, timeout: 'PT5M' } },
      NOW,
    );
    const output = drive(
      documentDigestOrchestrator,
      context,
      runtime([{ approved: 'yes' }, { approved: true }]),
    );
    expect(output.approval).toMatchObject({ status: 'approved' });
    expect(context.calls.filter((c) => c.kind === 'timer')).toHaveLength(1);
    expect(context.calls.filter((c) => c.kind === 'event')).toHaveLength(2);
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
      drive(documentDigestOrchestrator, context, (task) => {
        const first = task.children?.[0];
        if (task.kind === 'any' && first?.kind === 'activity')
          return { value: fail(first, new Error('boom')) };
        return resolve(task);
      }),
    ).toThrow('boom');
  });

  it('rejects input that skipped the HTTP starter', () => {
    const context = new FakeOrchestrationContext({ title: 'x', paragraphs: [] }, NOW);
    expect(() => drive(documentDigestOrchestrator, context, runtime())).toThrow();
    expect(context.calls).toEqual([]);
  });
});
