/* global document, Node */
// DOM building and formatting. Data only ever reaches the page as text nodes, never as markup.

/**
 * `h('a', { href: '#/x', class: 'y' }, 'text', child)`. Attributes named `on*` with a function become
 * listeners; `false`/`null`/`undefined` attributes and children are skipped.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === false || child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Rebuilds `container`'s children only when `data` changed since the last call, so a live page keeps
 * focus, scroll position and open `<details>` in the parts that did not change.
 */
export function renderIfChanged(container, data, build) {
  const key = JSON.stringify(data) ?? 'undefined';
  if (container.dataset.renderedFrom === key) return;
  container.dataset.renderedFrom = key;
  container.replaceChildren(...[build()].flat().filter((node) => node !== null && node !== undefined));
}

// The browser's copy of FINISHED_STATUSES (src/shared/operatorTypes.ts); test/unit/finishedStatuses.test.ts
// pins the two together.
export const TERMINAL_STATUSES = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

const STATUS_TONES = {
  Completed: 'ok',
  Running: 'info',
  Pending: 'info',
  Suspended: 'warn',
  Failed: 'bad',
  Terminated: 'bad',
  Canceled: 'bad',
  ContinuedAsNew: 'info',
  completed: 'ok',
  approved: 'ok',
  rejected: 'bad',
  running: 'info',
  waiting: 'warn',
  failed: 'bad',
  skipped: '',
  canceled: 'bad',
  terminated: 'bad',
  budget_exceeded: 'bad',
};

/** A status as text in a coloured pill; the word carries the meaning, the colour only repeats it. */
export function statusBadge(status) {
  const label = status ?? 'unknown';
  return h('span', { class: `badge ${STATUS_TONES[label] ?? ''}`.trim() }, label.replace(/_/g, ' '));
}

/**
 * The one money format (src/shared/money.ts `formatUsd`, which the API's budget messages and the CLI use):
 * `$12.35` from a dollar up, `$0.0048` below, `<$0.0001` for a tiny amount, `$0.00` for none.
 */
export function formatCost(usd) {
  if (typeof usd !== 'number' || !Number.isFinite(usd)) return '—';
  const rounded = Math.round(usd * 1e10) / 1e10;
  if (rounded === 0) return '$0.00';
  const sign = rounded < 0 ? '-' : '';
  const value = Math.abs(rounded);
  if (value >= 1) return `${sign}$${value.toFixed(2)}`;
  if (value < 0.00005) return `${sign}<$0.0001`;
  return `${sign}$${value.toFixed(4)}`;
}

/**
 * "Step 4 of 4: review" while a run is on its fourth step (`stepIndex` counts from 0), "4 of 4 steps"
 * once it went through all of them, "Stopped at step 2 of 4: research" when it ended early.
 */
export function stepProgressText(run) {
  const progress = run.progress;
  if (!progress) return '';
  const { stepIndex, stepCount } = progress;
  if (stepIndex >= stepCount) return `${stepCount} of ${stepCount} steps`;
  const step = progress.step ? `: ${progress.step}` : '';
  const finished = TERMINAL_STATUSES.has(run.status);
  return `${finished ? 'Stopped at step' : 'Step'} ${stepIndex + 1} of ${stepCount}${step}`;
}

/** Steps done, for a `<progress>`: all of them once the run went through, else those before the current. */
export function stepsDone(run) {
  const progress = run.progress;
  if (!progress) return 0;
  return Math.min(progress.stepIndex, progress.stepCount);
}

const numberFormat = new Intl.NumberFormat('en-US');
export const formatCount = (n) => (typeof n === 'number' ? numberFormat.format(n) : '—');

/** `<time>` with the ISO value for machines and the local date and time (or time only) for people. */
export function timeElement(iso, { timeOnly = false } = {}) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const text = timeOnly ? date.toLocaleTimeString() : date.toLocaleString();
  return h('time', { datetime: date.toISOString(), title: date.toLocaleString() }, text);
}

export function formatDuration(fromIso, toIso) {
  if (!fromIso || !toIso) return '';
  const ms = new Date(toIso).getTime() - new Date(fromIso).getTime();
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Token counts in either shape the API uses: `{input, output, …}` (timeline) or `{inputTokens, …}` (ledger). */
export function tokensOf(usage) {
  const u = usage ?? {};
  return {
    input: u.input ?? u.inputTokens ?? 0,
    output: u.output ?? u.outputTokens ?? 0,
    cacheWrite: u.cacheWrite ?? u.cacheWriteTokens ?? 0,
    cacheRead: u.cacheRead ?? u.cacheReadTokens ?? 0,
  };
}

/**
 * Prompt-cache hit rate as the API reports it (`cacheHitRate`, 0–1), else computed from the tokens the same
 * way (src/shared/cacheHitRate.ts): cache read ÷ (input + cache write + cache read). "—" without prompt tokens.
 */
export function formatHitRate(rate, usage) {
  let value = typeof rate === 'number' ? rate : undefined;
  if (value === undefined && usage) {
    const t = tokensOf(usage);
    const prompt = t.input + t.cacheWrite + t.cacheRead;
    if (prompt > 0) value = t.cacheRead / prompt;
  }
  return value === undefined ? '—' : `${(value * 100).toFixed(1)} %`;
}

export const prettyJson = (value) => JSON.stringify(value, null, 2) ?? 'null';

/** `<input type="datetime-local">` value (local time) ↔ ISO instant. */
export function isoFromLocalInput(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

export function localInputFromIso(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** A table with a caption, column headers (`{label, num?}`) and rows of cells (text, nodes or `{value, num}`). */
export function table({ caption, columns, rows, footer }) {
  const cell = (tag, value, column) => {
    const content = value && typeof value === 'object' && 'value' in value ? value.value : value;
    const numeric = column?.num || (value && typeof value === 'object' && value.num);
    const attrs = numeric ? { class: 'num' } : {};
    if (tag === 'th') attrs.scope = 'col';
    return h(tag, attrs, content);
  };
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      caption ? h('caption', {}, caption) : null,
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((column) => cell('th', column.label, column)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((row) =>
          h(
            'tr',
            {},
            row.map((value, i) => cell('td', value, columns[i])),
          ),
        ),
      ),
      footer
        ? h(
            'tfoot',
            {},
            h(
              'tr',
              {},
              footer.map((value, i) =>
                i === 0 ? h('th', { scope: 'row' }, value) : cell('td', value, columns[i]),
              ),
            ),
          )
        : null,
    ),
  );
}
