/* global clearTimeout, document, FormData, setTimeout, URLSearchParams */
// The runs list: filters in the URL (bookmarkable), continuation-token paging, one row per run.
import { operatorApi } from './api.mjs';
import {
  formatCost,
  formatCount,
  h,
  isoFromLocalInput,
  localInputFromIso,
  statusBadge,
  stepProgressText,
  table,
  TERMINAL_STATUSES,
  timeElement,
} from './dom.mjs';

/** How often the list is fetched again while it can change: page 1 (new runs) or any run still going. */
export const LIST_POLL_INTERVAL_MS = 3_000;

const STATUSES = ['Pending', 'Running', 'Suspended', 'Completed', 'Failed', 'Terminated'];
const PAGE_SIZES = ['20', '50', '100', '200'];
const DEFAULT_PAGE_SIZE = '50';

/** Filters as the operator API takes them, from the page's `#/runs?...` query. */
export function filtersFrom(params) {
  return {
    status: params.get('status') ?? '',
    workflow: params.get('workflow') ?? '',
    idPrefix: params.get('idPrefix') ?? '',
    createdFrom: params.get('createdFrom') ?? '',
    createdTo: params.get('createdTo') ?? '',
    pageSize: params.get('pageSize') ?? DEFAULT_PAGE_SIZE,
    all: params.get('all') === 'true' ? 'true' : '',
  };
}

export function runsListHash(filters) {
  const kept = Object.entries(filters).filter(([key, value]) => {
    return value !== '' && !(key === 'pageSize' && value === DEFAULT_PAGE_SIZE);
  });
  return kept.length === 0 ? '#/runs' : `#/runs?${new URLSearchParams(kept)}`;
}

// Survives leaving the list for a run and coming back: the same filters reopen the same page.
let paging = { filterKey: '', tokens: [''], index: 0 };

function field(id, label, control) {
  return h('p', { class: 'field' }, h('label', { for: id }, label), control);
}

/** The workflow filter: every workflow the app knows (GET operator/workflows), filled in when it answers. */
function workflowSelect(current) {
  const select = h(
    'select',
    { id: 'f-workflow', name: 'workflow' },
    h('option', { value: '' }, 'All workflows'),
    current ? h('option', { value: current, selected: true }, current) : null,
  );
  operatorApi
    .listWorkflows()
    .then(({ workflows }) => {
      const names = (Array.isArray(workflows) ? workflows : []).map((w) => w.name);
      if (current && !names.includes(current)) names.push(current);
      select.replaceChildren(
        h('option', { value: '' }, 'All workflows'),
        ...names.map((name) => h('option', { value: name, selected: name === current }, name)),
      );
    })
    .catch(() => {
      // The list still works with the current choice; the operator API's error shows on the results.
    });
  return select;
}

function filterForm(filters, apply) {
  const selected = new Set(filters.status.split(',').filter(Boolean));
  const statusBoxes = STATUSES.map((status) =>
    h(
      'label',
      {},
      h('input', { type: 'checkbox', name: 'status', value: status, checked: selected.has(status) }),
      ` ${status}`,
    ),
  );
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter runs' },
    h('fieldset', {}, h('legend', {}, 'Status'), statusBoxes),
    field('f-workflow', 'Workflow', workflowSelect(filters.workflow)),
    field(
      'f-id',
      'Run id starts with',
      h('input', { id: 'f-id', name: 'idPrefix', value: filters.idPrefix, spellcheck: 'false' }),
    ),
    field(
      'f-from',
      'Created from',
      h('input', {
        id: 'f-from',
        name: 'createdFrom',
        type: 'datetime-local',
        value: localInputFromIso(filters.createdFrom),
      }),
    ),
    field(
      'f-to',
      'Created to',
      h('input', {
        id: 'f-to',
        name: 'createdTo',
        type: 'datetime-local',
        value: localInputFromIso(filters.createdTo),
      }),
    ),
    field(
      'f-size',
      'Page size',
      h(
        'select',
        { id: 'f-size', name: 'pageSize' },
        [...new Set([...PAGE_SIZES, filters.pageSize])].map((size) =>
          h('option', { value: size, selected: size === filters.pageSize }, size),
        ),
      ),
    ),
    h(
      'label',
      {},
      h('input', { type: 'checkbox', name: 'all', value: 'true', checked: filters.all === 'true' }),
      ' Include agent and child runs',
    ),
    h(
      'p',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
      h('a', { href: '#/runs' }, 'Clear'),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    apply({
      status: data.getAll('status').join(','),
      workflow: String(data.get('workflow') ?? '').trim(),
      idPrefix: String(data.get('idPrefix') ?? '').trim(),
      createdFrom: isoFromLocalInput(String(data.get('createdFrom') ?? '')),
      createdTo: isoFromLocalInput(String(data.get('createdTo') ?? '')),
      pageSize: String(data.get('pageSize') ?? DEFAULT_PAGE_SIZE),
      all: data.get('all') === 'true' ? 'true' : '',
    });
  });
  return form;
}

function progressText(run) {
  if (run.batch) {
    const { done, total, failed } = run.batch;
    return `${formatCount(done)} of ${formatCount(total)} items${failed > 0 ? `, ${formatCount(failed)} failed` : ''}`;
  }
  const progress = run.progress;
  if (!progress) return '';
  const map = progress.map ? ` (${progress.map.done}/${progress.map.total})` : '';
  const batch = progress.batch ? ` (batch: ${progress.batch.processing} processing)` : '';
  return `${stepProgressText(run)}${map}${batch}`;
}

function runRow(run) {
  return [
    { value: h('a', { href: `#/runs/${encodeURIComponent(run.id)}` }, run.id) },
    run.kind === 'batch'
      ? [run.workflow ?? '—', ' ', h('span', { class: 'badge' }, 'batch')]
      : (run.workflow ?? '—'),
    run.version ?? '',
    h(
      'span',
      {},
      statusBadge(run.status),
      run.waitingFor ? [' ', h('span', { class: 'badge warn' }, 'awaiting approval')] : null,
    ),
    run.outcome ? statusBadge(run.outcome) : h('span', { class: 'muted' }, '—'),
    progressText(run),
    { value: formatCost(run.costUsd), num: true },
    timeElement(run.createdAt),
    timeElement(run.updatedAt),
  ];
}

const COLUMNS = [
  { label: 'Run' },
  { label: 'Workflow' },
  { label: 'Version' },
  { label: 'Status' },
  { label: 'Outcome' },
  { label: 'Progress' },
  { label: 'Cost', num: true },
  { label: 'Created' },
  { label: 'Updated' },
];

/** Renders the list into `main`; returns a function that stops it. */
export function renderRunsList(main, params, ctx) {
  const filters = filtersFrom(params);
  const filterKey = JSON.stringify(filters);
  if (paging.filterKey !== filterKey) paging = { filterKey, tokens: [''], index: 0 };
  let disposed = false;
  let timer;
  let lastPage = '';

  const results = h('section', { 'aria-labelledby': 'results-heading', 'aria-busy': 'true' });
  const refresh = h('button', { type: 'button', onclick: () => void load() }, 'Refresh');
  main.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Runs'),
    filterForm(filters, (next) => ctx.navigate(runsListHash(next))),
    h(
      'div',
      { class: 'toolbar' },
      h('h2', { id: 'results-heading', class: 'visually-hidden' }, 'Results'),
      refresh,
    ),
    results,
  );

  /** `quiet`: a poll, which repaints (and announces) only when the page changed. */
  async function load({ quiet = false } = {}) {
    clearTimeout(timer);
    if (!quiet) results.setAttribute('aria-busy', 'true');
    let page;
    try {
      page = await operatorApi.listRuns(filters, paging.tokens[paging.index]);
      if (disposed) return;
      const key = JSON.stringify(page);
      if (!quiet || key !== lastPage) paint(page);
      lastPage = key;
    } catch (error) {
      if (!disposed && !quiet) ctx.showError(error, results);
    } finally {
      results.setAttribute('aria-busy', 'false');
    }
    if (disposed) return;
    const runs = Array.isArray(page?.runs) ? page.runs : [];
    const active = runs.some((run) => !TERMINAL_STATUSES.has(run.status));
    if (paging.index === 0 || active || !page) {
      // A hidden tab does not poll; it catches up on the first tick after it shows again.
      const poll = () => {
        if (document.hidden) timer = setTimeout(poll, LIST_POLL_INTERVAL_MS);
        else void load({ quiet: true });
      };
      timer = setTimeout(poll, LIST_POLL_INTERVAL_MS);
    }
  }

  function turn(delta, token) {
    if (delta > 0) paging.tokens[paging.index + 1] = token;
    paging.index += delta;
    void load().then(() => results.querySelector('caption')?.focus());
  }

  function paint(page) {
    const runs = Array.isArray(page.runs) ? page.runs : [];
    const pageNumber = paging.index + 1;
    const pager = h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      h('button', { type: 'button', disabled: paging.index === 0, onclick: () => turn(-1) }, 'Previous page'),
      h('span', {}, `Page ${pageNumber}`),
      h(
        'button',
        {
          type: 'button',
          disabled: !page.continuationToken,
          onclick: () => turn(1, page.continuationToken),
        },
        'Next page',
      ),
    );
    if (runs.length === 0) {
      const filtered = Object.entries(filters).some(([key, value]) => key !== 'pageSize' && value !== '');
      const message = filtered ? 'No runs match these filters.' : 'No runs yet.';
      const empty = h('p', {}, message);
      results.replaceChildren(...(paging.index > 0 ? [empty, pager] : [empty]));
      ctx.announce(message);
      return;
    }
    const caption = `${runs.length} run${runs.length === 1 ? '' : 's'} on page ${pageNumber}, newest first`;
    const view = table({ caption, columns: COLUMNS, rows: runs.map(runRow) });
    view.querySelector('caption').setAttribute('tabindex', '-1');
    results.replaceChildren(view, pager);
    ctx.announce(caption);
  }

  void load();
  return () => {
    disposed = true;
    clearTimeout(timer);
  };
}
