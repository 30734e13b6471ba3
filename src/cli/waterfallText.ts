/** `runs show`'s waterfall and `runs logs`' lines: a run's spans as text (the dashboard draws the same data). */
import { hitRateText } from '../shared/cacheHitRate.js';
import { formatUsd } from '../shared/money.js';
import type { AuditRecord, ChildRun, RunDetail, WaterfallSpan } from '../shared/operatorTypes.js';
import { duration, runDetailText, table } from './format.js';

const BAR_WIDTH = 32;

const KIND_LABELS: Record<WaterfallSpan['kind'], string> = {
  step: 'step',
  model: 'model',
  tool: 'tool',
  activity: 'activity',
  retry_wait: 'retry wait',
  timer: 'timer',
  approval: 'approval',
  child: 'child',
};

/** Model, tokens, cache hit and cost of a model call; the error of a failed span. */
export function spanFigures(span: WaterfallSpan): string {
  const parts: string[] = [];
  if (span.model) {
    const m = span.model;
    parts.push(
      m.model ?? m.deployment,
      `${m.inputTokens + m.cacheReadTokens + m.cacheWriteTokens}/${m.outputTokens} tok`,
      `cache ${hitRateText(m.cacheHitRate)}`,
      formatUsd(m.costUsd),
    );
  }
  if (span.error) parts.push(span.error.replace(/\s+/g, ' ').slice(0, 80));
  return parts.join('  ');
}

/** `|   ████        |`: where the span sits on the run's time axis. */
export function bar(start: number, end: number, from: number, to: number, width = BAR_WIDTH): string {
  const scale = width / Math.max(1, to - from);
  const left = Math.min(width - 1, Math.max(0, Math.floor((start - from) * scale)));
  const length = Math.max(1, Math.min(width - left, Math.round((end - start) * scale)));
  return `|${' '.repeat(left)}${'█'.repeat(length)}${' '.repeat(width - left - length)}|`;
}

export function waterfallText(spans: readonly WaterfallSpan[], now = Date.now()): string {
  if (spans.length === 0) return 'No waterfall yet.';
  const starts = spans.map((span) => Date.parse(span.start));
  const ends = spans.map((span) => (span.end ? Date.parse(span.end) : now));
  const from = Math.min(...starts);
  const to = Math.max(from + 1, ...ends);
  return [
    `Waterfall: ${spans.length} spans over ${duration(new Date(from).toISOString(), new Date(to).toISOString())} (drill into a call: GET /api/operator/runs/<id>/calls/<event>?instance=<instance>)`,
    table(
      ['SPAN', 'TIME', 'DURATION', 'STATUS', 'EVENT', 'DETAILS'],
      spans.map((span, index) => [
        `${'  '.repeat(span.depth)}${KIND_LABELS[span.kind]} ${span.name}`,
        bar(starts[index] as number, ends[index] as number, from, to),
        duration(span.start, span.end, now),
        span.status,
        span.detail && span.eventId !== undefined
          ? `${span.eventId}${span.instanceId.includes(':') ? `@${span.instanceId.slice(span.instanceId.indexOf(':') + 1)}` : ''}`
          : '',
        spanFigures(span),
      ]),
    ),
  ].join('\n');
}

export function childTreeText(children: readonly ChildRun[], depth = 0): string[] {
  return children.flatMap((child) => [
    `${'  '.repeat(depth + 1)}${child.id}  ${child.orchestrator}${child.stepId ? ` (step ${child.stepId})` : ''}  ${child.status}`,
    ...childTreeText(child.children, depth + 1),
  ]);
}

const stamp = (iso: string) => iso.replace('T', ' ').replace(/Z$/, 'Z');

interface LogLine {
  readonly at: string;
  readonly order: number;
  readonly text: string;
  readonly key: string;
}

/**
 * The run as log lines, oldest first: each span's start and end, and each operator action. `key` lets
 * `runs logs --follow` print only lines it has not printed yet.
 */
export function logLines(run: Pick<RunDetail, 'waterfall' | 'actions'>): LogLine[] {
  const lines: LogLine[] = [];
  for (const span of run.waterfall) {
    const where = span.stepId ? `[${span.stepId}] ` : '';
    const what = `${where}${KIND_LABELS[span.kind]} ${span.name}`;
    lines.push({ at: span.start, order: 0, key: `${span.id}>`, text: `${what} started` });
    if (span.end !== undefined) {
      const figures = spanFigures(span);
      lines.push({
        at: span.end,
        order: 1,
        key: `${span.id}<`,
        text: `${what} ${span.status} after ${duration(span.start, span.end)}${figures ? `  ${figures}` : ''}`,
      });
    }
  }
  run.actions.forEach((action: AuditRecord, index) => {
    const why = action.reason ?? action.comment;
    const via = action.via ? ` via ${action.via}` : '';
    lines.push({
      at: action.at,
      order: 2,
      key: `action:${index}:${action.at}`,
      text: `operator ${action.action}${action.event ? ` "${action.event}"` : ''} by ${action.by}${via}${why ? `: ${why}` : ''}`,
    });
  });
  return lines
    .sort((a, b) => a.at.localeCompare(b.at) || a.order - b.order)
    .map((line) => ({ ...line, text: `${stamp(line.at)}  ${line.text}` }));
}

/** `runs show`: the run, its timeline and actions, then its waterfall, agent/child runs and failed items. */
export function runShowText(run: RunDetail, now = Date.now()): string {
  const parts = [runDetailText(run), '', waterfallText(run.waterfall ?? [], now)];
  if (run.children?.length) parts.push('', 'Agent and child runs:', ...childTreeText(run.children));
  if (run.batch) {
    const { total, done, succeeded, failed } = run.batch;
    parts.push('', `Items: ${done} of ${total} done, ${succeeded} succeeded, ${failed} failed`);
  }
  if (run.failedItems?.length) {
    parts.push(
      '',
      table(
        ['LINE', 'RUN', 'OUTCOME', 'ERROR'],
        run.failedItems.map((item) => [
          String(item.line),
          item.runId,
          item.status,
          item.error ? `${item.error.kind}: ${item.error.message}`.replace(/\s+/g, ' ').slice(0, 100) : '',
        ]),
      ),
    );
  }
  return parts.join('\n');
}
