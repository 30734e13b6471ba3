/** Plain-text rendering for the CLI: tables, durations, money, a progress bar. */
import { z } from 'zod';
import { cacheHitRate, hitRateText } from '../shared/cacheHitRate.js';
import { formatUsd } from '../shared/money.js';
import { isFinished, type RunDetail, type RunSummary, type TimelineEntry } from '../shared/operatorTypes.js';

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** The one money format (src/shared/money.ts), as the dashboard and the budget messages show it. */
export const money = formatUsd;

export function duration(startedAt?: string, endedAt?: string, now = Date.now()): string {
  if (!startedAt) return '';
  const ms = (endedAt ? Date.parse(endedAt) : now) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return minutes < 60
    ? `${minutes}m${Math.round((ms % 60_000) / 1_000)}s`
    : `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

const shortTime = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function statusText(run: Pick<RunSummary, 'status' | 'outcome'>): string {
  return run.outcome && run.outcome !== 'completed' ? `${run.status} (${run.outcome})` : run.status;
}

export function stepText(run: RunSummary): string {
  if (run.batch) {
    const { done, total, failed } = run.batch;
    return `${done}/${total} items${failed > 0 ? `, ${failed} failed` : ''}`;
  }
  const progress = run.progress;
  if (!progress) return '';
  if (progress.stepIndex >= progress.stepCount) return `${progress.stepCount}/${progress.stepCount} steps`;
  if (run.waitingFor) return `${progress.step ?? ''} (waiting for ${run.waitingFor.event})`;
  const map = progress.map ? ` ${progress.map.done}/${progress.map.total}` : '';
  const batch = progress.batch ? ` (batch: ${progress.batch.processing} processing)` : '';
  return progress.step
    ? `${progress.step}${map}${batch} [${progress.stepIndex + 1}/${progress.stepCount}]`
    : '';
}

export function runsTable(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return 'No runs match.';
  return table(
    ['ID', 'WORKFLOW', 'STATUS', 'OUTCOME', 'STEP', 'COST', 'CREATED'],
    runs.map((run) => [
      run.id,
      `${run.workflow ?? '?'}${run.version === null ? '' : ` ${run.version}`}${run.kind === 'batch' ? ' (batch)' : ''}`,
      run.status,
      run.outcome ?? '',
      stepText(run),
      money(run.costUsd),
      shortTime(run.createdAt),
    ]),
  );
}

export function timelineTable(timeline: readonly TimelineEntry[]): string {
  if (timeline.length === 0) return 'No steps recorded yet.';
  return table(
    [
      'STEP',
      'KIND',
      'STATUS',
      'ROLE',
      'DEPLOYMENT',
      'DURATION',
      'TOKENS IN/OUT',
      'CACHE HIT',
      'COST',
      'TOOLS',
      'RETRIES',
      'ERROR',
    ],
    timeline.map((step) => [
      step.stepId,
      step.kind,
      step.status,
      step.role ?? '',
      (step.deployments ?? []).join(','),
      duration(step.startedAt, step.endedAt),
      `${step.tokens.input + step.tokens.cacheRead + step.tokens.cacheWrite}/${step.tokens.output}`,
      hitRateText(step.cacheHitRate ?? cacheHitRate(step.tokens)),
      money(step.costUsd),
      String(step.toolCalls),
      String(step.retries),
      (step.error ?? '').replace(/\s+/g, ' ').slice(0, 80),
    ]),
  );
}

const LedgerHitRate = z.looseObject({
  totals: z.looseObject({ cacheHitRate: z.number().nullable() }),
});

/** The run's cache hit rate from its ledger (GET /api/runs/{id} shape); undefined when the ledger has none. */
function runCacheHitRate(ledger: unknown): number | null | undefined {
  const parsed = LedgerHitRate.safeParse(ledger);
  return parsed.success ? parsed.data.totals.cacheHitRate : undefined;
}

/** `delivered (HTTP 204, 1 attempt)`, `pending: attempt 2 failed: ECONNREFUSED`, `failed after 8 attempts: …`. */
export function callbackText(callback: NonNullable<RunDetail['callback']>): string {
  const tries = `${callback.attempts} attempt${callback.attempts === 1 ? '' : 's'}`;
  const http = callback.status === undefined ? '' : `HTTP ${callback.status}, `;
  switch (callback.state) {
    case 'waiting':
      return 'waiting for the run to finish';
    case 'delivered':
      return `delivered (${http}${tries})`;
    case 'pending':
      return `pending: attempt ${callback.attempts} failed: ${callback.lastError ?? ''}; next at ${callback.nextAttemptAt ?? '?'}`;
    case 'failed':
      return `failed (${http}${tries}): ${callback.lastError ?? ''}`;
  }
}

export function runDetailText(run: RunDetail): string {
  const lines = [
    `Run ${run.id}`,
    `  workflow  ${run.workflow ?? '?'} ${run.version ?? ''}`.trimEnd(),
    `  status    ${statusText(run)}`,
    `  created   ${shortTime(run.createdAt)}   updated ${shortTime(run.updatedAt)}`,
    `  cost      ${money(run.costUsd)}`,
  ];
  const rate = runCacheHitRate(run.ledger);
  if (rate !== undefined) lines.push(`  cache hit ${hitRateText(rate)} of prompt tokens read from cache`);
  if (run.waitingFor) {
    lines.push(
      `  waiting   for "${run.waitingFor.event}" until ${shortTime(run.waitingFor.until)}${run.waitingFor.message ? `: ${run.waitingFor.message}` : ''}`,
    );
  }
  if (run.error)
    lines.push(
      `  error     ${run.error.kind}${run.error.stepId ? ` at ${run.error.stepId}` : ''}: ${run.error.message}`,
    );
  if (run.callback) lines.push(`  callback  ${callbackText(run.callback)}`);
  lines.push('', timelineTable(run.timeline));
  if (run.actions.length > 0) {
    lines.push('', 'Operator actions:');
    for (const action of run.actions) {
      const why = action.reason ?? action.comment;
      const link = action.newRunId
        ? ` → new run ${action.newRunId}`
        : action.restartedFrom
          ? ` (restarted from ${action.restartedFrom})`
          : '';
      lines.push(
        `  ${shortTime(action.at)}  ${action.action} by ${action.by}${link}${why ? `: ${why}` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

/** How far a run is, 0 to 1: finished steps, plus the share of a running map. */
export function progressFraction(run: RunSummary): number {
  if (isFinished(run.status)) return 1;
  const progress = run.progress;
  if (!progress) return 0;
  const map = progress.map && progress.map.total > 0 ? progress.map.done / progress.map.total : 0;
  return Math.min(1, (progress.stepIndex + map) / progress.stepCount);
}

export function progressBar(fraction: number, width = 24): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
}

export function watchLine(run: RunSummary): string {
  const step = stepText(run);
  return `${statusText(run)}${step ? `  ${step}` : ''}  ${money(run.costUsd)}`;
}
