// The parts of a run's page that only show data: summary, timeline, cost ledger, approvals, audit trail.
import {
  formatCost,
  formatCount,
  formatHitRate,
  formatDuration,
  h,
  statusBadge,
  stepProgressText,
  stepsDone,
  table,
  TERMINAL_STATUSES,
  timeElement,
  tokensOf,
} from './dom.mjs';

function progressLine(run) {
  const progress = run.progress;
  if (!progress) return h('span', { class: 'muted' }, '—');
  const label = stepProgressText(run);
  const map = progress.map ? ` (${progress.map.stepId}: ${progress.map.done} of ${progress.map.total})` : '';
  const batch = progress.batch
    ? `; ${progress.batch.provider} batch ${progress.batch.batchIds.join(', ')}: ` +
      `${progress.batch.succeeded} succeeded, ${progress.batch.errored} failed, ${progress.batch.processing} processing`
    : '';
  return h(
    'span',
    { class: 'progress-line' },
    h('progress', { value: stepsDone(run), max: progress.stepCount, 'aria-label': 'Steps done' }),
    `${label}${map}${batch}`,
  );
}

export function summaryList(run) {
  const item = (term, value) => [h('dt', {}, term), h('dd', {}, value)];
  return h(
    'dl',
    { class: 'summary' },
    item('Workflow', `${run.workflow ?? '—'}${run.version !== undefined ? ` ${run.version}` : ''}`),
    item('Status', statusBadge(run.status)),
    run.outcome && run.outcome.toLowerCase() !== String(run.status).toLowerCase()
      ? item('Outcome', statusBadge(run.outcome))
      : null,
    run.batch
      ? item(
          'Items',
          `${formatCount(run.batch.done)} of ${formatCount(run.batch.total)} done: ` +
            `${formatCount(run.batch.succeeded)} succeeded, ${formatCount(run.batch.failed)} failed`,
        )
      : item('Progress', progressLine(run)),
    item(TERMINAL_STATUSES.has(run.status) ? 'Cost' : 'Cost so far', formatCost(run.costUsd)),
    item('Created', timeElement(run.createdAt)),
    item('Last update', timeElement(run.updatedAt)),
    run.callback ? item('Callback', callbackLine(run.callback)) : null,
  );
}

/** The completion callback: its state as a badge, then attempts, HTTP status and last error. */
function callbackLine(callback) {
  const facts = [
    callback.attempts > 0 ? `${callback.attempts} attempt${callback.attempts === 1 ? '' : 's'}` : null,
    callback.status !== undefined ? `HTTP ${callback.status}` : null,
    callback.lastError ?? null,
  ].filter((fact) => fact !== null);
  return h('span', {}, statusBadge(callback.state), facts.length > 0 ? ` ${facts.join(' · ')}` : '');
}

const TIMELINE_COLUMNS = [
  { label: 'Step' },
  { label: 'Kind' },
  { label: 'Status' },
  { label: 'Role and deployments' },
  { label: 'Started' },
  { label: 'Ended' },
  { label: 'Duration', num: true },
  { label: 'Tokens in / out', num: true },
  { label: 'Cache write / read', num: true },
  { label: 'Cache hit', num: true },
  { label: 'Cost', num: true },
  { label: 'Tool calls', num: true },
  { label: 'Retries', num: true },
  { label: 'Error' },
];

function roleAndDeployments(entry) {
  const deployments = entry.deployments ?? [];
  if (!entry.role && deployments.length === 0) return '';
  return h(
    'span',
    {},
    entry.role ?? '',
    deployments.length > 0 ? h('span', { class: 'muted' }, ` on ${deployments.join(', ')}`) : null,
  );
}

export function timelineTable(timeline) {
  if (!Array.isArray(timeline) || timeline.length === 0) {
    return h('p', { class: 'muted' }, 'No step has started yet.');
  }
  const rows = timeline.map((entry) => {
    const tokens = tokensOf(entry.tokens);
    return [
      entry.stepId,
      entry.kind ?? '',
      statusBadge(entry.status),
      roleAndDeployments(entry),
      timeElement(entry.startedAt, { timeOnly: true }),
      entry.endedAt ? timeElement(entry.endedAt, { timeOnly: true }) : '',
      formatDuration(entry.startedAt, entry.endedAt),
      `${formatCount(tokens.input)} / ${formatCount(tokens.output)}`,
      `${formatCount(tokens.cacheWrite)} / ${formatCount(tokens.cacheRead)}`,
      formatHitRate(entry.cacheHitRate, entry.tokens),
      formatCost(entry.costUsd),
      formatCount(entry.toolCalls ?? 0),
      formatCount(entry.retries ?? 0),
      entry.error ?? '',
    ];
  });
  return table({
    caption: 'Step timeline: one row per step, in the order the run reached them',
    columns: TIMELINE_COLUMNS,
    rows,
  });
}

const LEDGER_COLUMNS = [
  { label: 'Step' },
  { label: 'Role' },
  { label: 'Provider' },
  { label: 'Deployment' },
  { label: 'Calls', num: true },
  { label: 'Input tokens', num: true },
  { label: 'Output tokens', num: true },
  { label: 'Cache write', num: true },
  { label: 'Cache read', num: true },
  { label: 'Cache hit', num: true },
  { label: 'Cost', num: true },
];

export function ledgerTable(ledger) {
  if (!ledger || !ledger.totals) return h('p', { class: 'muted' }, 'No model calls yet.');
  const rows = Array.isArray(ledger.rows) ? ledger.rows : [];
  const totals = tokensOf(ledger.totals.usage);
  const callCount =
    ledger.totals.calls ??
    (rows.length > 0 ? rows.reduce((sum, row) => sum + (row.calls ?? 0), 0) : undefined);
  const footer = [
    'Total',
    '',
    '',
    '',
    formatCount(callCount),
    formatCount(totals.input),
    formatCount(totals.output),
    formatCount(totals.cacheWrite),
    formatCount(totals.cacheRead),
    formatHitRate(ledger.totals.cacheHitRate, ledger.totals.usage),
    formatCost(ledger.totals.costUsd),
  ];
  const body = rows.map((row) => {
    const tokens = tokensOf(row.usage);
    return [
      row.stepId,
      row.role,
      row.provider ?? '',
      `${row.deployment}${row.batch ? ' (batch)' : ''}${row.offline ? ' (offline)' : ''}`,
      formatCount(row.calls),
      formatCount(tokens.input),
      formatCount(tokens.output),
      formatCount(tokens.cacheWrite),
      formatCount(tokens.cacheRead),
      formatHitRate(row.cacheHitRate, row.usage),
      formatCost(row.costUsd),
    ];
  });
  return [
    table({
      caption: 'Cost ledger: per step, role and deployment, with totals',
      columns: LEDGER_COLUMNS,
      rows: body,
      footer,
    }),
    rows.length === 0
      ? h(
          'p',
          { class: 'hint' },
          'Rows per step, role and deployment appear when the run finishes; the totals are live.',
        )
      : null,
  ];
}

const runLink = (id) => h('a', { href: `#/runs/${encodeURIComponent(id)}` }, id);

const who = (record) => record.by ?? record.operator ?? record.identity ?? record.who ?? 'anonymous';
const when = (record) => record.at ?? record.decidedAt ?? record.when ?? record.recordedAt;

function decisionOf(record) {
  if (typeof record.decision === 'string') return record.decision;
  if (typeof record.approved === 'boolean') return record.approved ? 'approved' : 'rejected';
  return record.action ?? 'decided';
}

export function approvalsList(approvals) {
  if (!Array.isArray(approvals) || approvals.length === 0) {
    return h('p', { class: 'muted' }, 'No approval decisions.');
  }
  return h(
    'ol',
    { class: 'records' },
    approvals.map((record) =>
      h(
        'li',
        {},
        statusBadge(decisionOf(record)),
        ` "${record.event ?? record.stepId ?? ''}" by ${who(record)} on `,
        timeElement(when(record)),
        record.comment ? [': ', h('q', {}, record.comment)] : null,
      ),
    ),
  );
}

export function auditList(actions) {
  if (!Array.isArray(actions) || actions.length === 0) {
    return h('p', { class: 'muted' }, 'No operator actions on this run.');
  }
  return h(
    'ol',
    { class: 'records' },
    actions.map((record) => {
      const note = record.reason ?? record.comment;
      return h(
        'li',
        {},
        h('strong', {}, record.action ?? 'action'),
        ` by ${who(record)} on `,
        timeElement(when(record)),
        note ? [': ', h('q', {}, note)] : null,
        record.newRunId ? [' → new run ', runLink(record.newRunId)] : null,
        record.restartedFrom ? [' (restarted from ', runLink(record.restartedFrom), ')'] : null,
      );
    }),
  );
}
