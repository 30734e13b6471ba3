/* global clearTimeout, setTimeout */
// One run, live: polled while it is not finished, with its actions behind a confirmation dialog.
import { operatorApi, UnauthorizedError } from './api.mjs';
import { confirmAction } from './confirmDialog.mjs';
import { h, prettyJson, renderIfChanged, TERMINAL_STATUSES, timeElement } from './dom.mjs';
import { approvalsList, auditList, ledgerTable, summaryList, timelineTable } from './runSections.mjs';
import { childTreeView, failedItemsView, showSpan, waterfallView } from './waterfall.mjs';

/** How often a run that is not finished is fetched again. */
export const POLL_INTERVAL_MS = 1_500;
/** After a failed fetch (the app restarting, say), wait longer before the next. */
const POLL_RETRY_MS = 5_000;

const ACTIONS = {
  approve: {
    label: 'Approve…',
    title: 'Approve this run?',
    description: 'The run continues with its next step. Your name and comment are recorded in the run.',
    textLabel: 'Comment (optional, recorded)',
    confirmLabel: 'Approve',
    textField: 'comment',
    done: 'Approved. The run continues.',
  },
  reject: {
    label: 'Reject…',
    title: 'Reject this run?',
    description: 'The run fails at this step with approval_rejected. Your name and comment are recorded.',
    textLabel: 'Comment (optional, recorded)',
    confirmLabel: 'Reject',
    danger: true,
    textField: 'comment',
    done: 'Rejected. The run stops.',
  },
  suspend: {
    label: 'Suspend…',
    title: 'Suspend this run?',
    description: 'The run pauses once its current work finishes, until someone resumes it.',
    confirmLabel: 'Suspend',
    done: 'Suspend requested.',
  },
  resume: {
    label: 'Resume…',
    title: 'Resume this run?',
    description: 'The run continues where it paused.',
    confirmLabel: 'Resume',
    done: 'Resume requested.',
  },
  terminate: {
    label: 'Terminate…',
    title: 'Terminate this run?',
    description: 'The run stops for good: work in flight is abandoned and it cannot be resumed.',
    confirmLabel: 'Terminate',
    danger: true,
    done: 'Terminate requested.',
  },
  rewind: {
    label: 'Rewind…',
    title: 'Rewind this failed run?',
    description: 'The failed work runs again; steps that completed keep their results.',
    confirmLabel: 'Rewind',
    done: 'Rewind requested.',
  },
  restart: {
    label: 'Restart…',
    title: 'Restart with the same input?',
    description: 'A new run starts from the same input. This run stays as it is.',
    confirmLabel: 'Start new run',
    done: 'New run started.',
  },
};

/** The actions that make sense for a run in this state; the API still has the last word (409). */
export function availableActions(run) {
  const status = run.status;
  const actions = [];
  if (run.waitingFor && (status === 'Running' || status === 'Pending')) actions.push('approve', 'reject');
  if (status === 'Running' || status === 'Pending') actions.push('suspend');
  if (status === 'Suspended') actions.push('resume');
  if (!TERMINAL_STATUSES.has(status)) actions.push('terminate');
  if (status === 'Failed') actions.push('rewind');
  actions.push('restart');
  return actions;
}

function statusSentence(run) {
  const step = run.progress?.step ? `, step ${run.progress.step}` : '';
  const waiting = run.waitingFor ? ', waiting for approval' : '';
  return `Run ${run.status}${run.outcome ? ` (${run.outcome})` : ''}${step}${waiting}.`;
}

function section(id, title, ...content) {
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...content);
}

/** Renders one run into `main`, live; returns a function that stops it. */
export function renderRunDetail(main, id, ctx) {
  let disposed = false;
  let timer;
  let generation = 0;
  let lastSentence = '';
  let run;

  const notice = h('div');
  const summary = h('div');
  const waiting = h('div');
  const actions = h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Run actions' });
  const failure = h('div');
  const timeline = h('div');
  const waterfall = h('div');
  const spanPanel = h('div', { class: 'panel span-detail', hidden: true, 'aria-live': 'polite' });
  const tree = h('div');
  const items = h('div');
  const itemsSection = section('items-heading', 'Failed items', items);
  itemsSection.hidden = true;
  const ledger = h('div');
  const approvals = h('div');
  const audit = h('div');
  const input = h('div');
  const output = h('div');
  const history = h('div');
  const historyButton = h(
    'button',
    { type: 'button', onclick: () => void loadHistory() },
    'Load raw history',
  );

  main.replaceChildren(
    h('p', {}, h('a', { href: ctx.listHash() }, '← All runs')),
    h('h1', { tabindex: '-1' }, 'Run ', h('code', {}, id)),
    notice,
    summary,
    waiting,
    actions,
    failure,
    section('waterfall-heading', 'Waterfall', waterfall, spanPanel),
    itemsSection,
    section('timeline-heading', 'Step timeline', timeline),
    section('tree-heading', 'Agent and child runs', tree),
    section('ledger-heading', 'Cost ledger', ledger),
    section('approvals-heading', 'Approvals', approvals),
    section('audit-heading', 'Operator actions', audit),
    section(
      'data-heading',
      'Input and output',
      h('details', {}, h('summary', {}, 'Input (secrets redacted)'), input),
      h('details', { open: true }, h('summary', {}, 'Output'), output),
    ),
    section('history-heading', 'Raw history', h('p', {}, historyButton), history),
  );

  function showNotice(message, { error = false, link } = {}) {
    notice.replaceChildren(
      h(
        'div',
        error ? { class: 'alert', role: 'alert' } : { class: 'panel notice', role: 'status' },
        message,
        link ? [' ', link] : null,
      ),
    );
  }

  function paint(next) {
    run = next;
    renderIfChanged(summary, [run.status, run.outcome, run.progress, run.costUsd, run.updatedAt], () =>
      summaryList(run),
    );
    renderIfChanged(waiting, [run.status, run.waitingFor], () =>
      run.waitingFor && !TERMINAL_STATUSES.has(run.status)
        ? h(
            'div',
            { class: 'panel waiting' },
            h('h2', {}, 'Waiting for approval'),
            h('p', {}, run.waitingFor.message ?? `The run waits for "${run.waitingFor.event}".`),
            h('p', {}, 'Decide before ', timeElement(run.waitingFor.until), '.'),
          )
        : null,
    );
    renderIfChanged(actions, availableActions(run), () =>
      availableActions(run).map((action) =>
        h(
          'button',
          {
            type: 'button',
            class: ACTIONS[action].danger ? 'danger' : action === 'approve' ? 'primary' : '',
            onclick: () => void act(action),
          },
          ACTIONS[action].label,
        ),
      ),
    );
    renderIfChanged(failure, run.error ?? null, () =>
      run.error
        ? h(
            'div',
            { class: 'panel error' },
            h('h2', {}, 'Error'),
            h(
              'p',
              {},
              typeof run.error === 'string'
                ? run.error
                : `${run.error.kind ?? 'error'}${run.error.stepId ? ` in ${run.error.stepId}` : ''}: ${run.error.message ?? ''}`,
            ),
          )
        : null,
    );
    renderIfChanged(timeline, run.timeline ?? [], () => timelineTable(run.timeline));
    renderIfChanged(waterfall, run.waterfall ?? [], () =>
      waterfallView(run, (span) => void showSpan(spanPanel, id, span, ctx)),
    );
    renderIfChanged(tree, run.children ?? [], () => childTreeView(run.children));
    itemsSection.hidden = run.kind !== 'batch';
    if (run.kind === 'batch') renderIfChanged(items, run.failedItems ?? [], () => failedItemsView(run));
    renderIfChanged(ledger, run.ledger ?? null, () => ledgerTable(run.ledger));
    renderIfChanged(approvals, run.approvals ?? [], () => approvalsList(run.approvals));
    renderIfChanged(audit, run.actions ?? [], () => auditList(run.actions));
    renderIfChanged(input, run.input ?? null, () => h('pre', {}, prettyJson(run.input ?? null)));
    renderIfChanged(output, run.output ?? null, () =>
      run.output === null || run.output === undefined
        ? h('p', { class: 'muted' }, TERMINAL_STATUSES.has(run.status) ? 'No output.' : 'Not finished yet.')
        : h('pre', {}, prettyJson(run.output)),
    );

    const sentence = statusSentence(run);
    if (sentence !== lastSentence) {
      lastSentence = sentence;
      ctx.announce(sentence);
    }
  }

  async function refresh() {
    clearTimeout(timer);
    // A refresh started after this one (by an action) takes over the polling loop.
    const mine = ++generation;
    let delay = POLL_INTERVAL_MS;
    try {
      const next = await operatorApi.getRun(id);
      if (disposed || mine !== generation) return;
      if (notice.dataset.stale) {
        delete notice.dataset.stale;
        notice.replaceChildren();
      }
      paint(next);
    } catch (error) {
      if (disposed || mine !== generation) return;
      if (error instanceof UnauthorizedError || error.status === 404) {
        ctx.showError(error, main);
        return;
      }
      notice.dataset.stale = 'true';
      showNotice(`Could not refresh: ${error.message} Retrying.`, { error: true });
      delay = POLL_RETRY_MS;
    }
    if (!disposed && !(run && TERMINAL_STATUSES.has(run.status))) timer = setTimeout(refresh, delay);
  }

  async function act(action) {
    const spec = ACTIONS[action];
    const answer = await confirmAction({
      title: spec.title,
      description: `${spec.description} (Run ${id}.)`,
      textLabel: spec.textLabel ?? 'Reason (optional, recorded)',
      // The operator API's limits: approval comments travel in the approval event.
      maxLength: spec.textField === 'comment' ? 2_000 : 1_000,
      confirmLabel: spec.confirmLabel,
      danger: spec.danger,
    });
    if (!answer || disposed) return;
    const body = answer.text ? { [spec.textField ?? 'reason']: answer.text } : {};
    try {
      const result = await operatorApi.act(id, action, body);
      if (disposed) return;
      const link = result?.newRunId
        ? h('a', { href: `#/runs/${encodeURIComponent(result.newRunId)}` }, `Open run ${result.newRunId}`)
        : undefined;
      showNotice(spec.done, { link });
      ctx.announce(spec.done);
    } catch (error) {
      if (disposed) return;
      if (error instanceof UnauthorizedError) return ctx.showError(error, main);
      showNotice(`${spec.confirmLabel} failed: ${error.message}`, { error: true });
    }
    await refresh();
  }

  async function loadHistory() {
    historyButton.disabled = true;
    history.replaceChildren(h('p', { role: 'status' }, 'Loading history…'));
    try {
      const detail = await operatorApi.getRun(id, { history: true });
      const events = detail.history ?? [];
      history.replaceChildren(
        h('p', { class: 'hint' }, `${events.length} events, as the Durable runtime recorded them.`),
        h('pre', { tabindex: '0', 'aria-label': 'Raw history events' }, prettyJson(events)),
      );
    } catch (error) {
      if (error instanceof UnauthorizedError) return ctx.showError(error, main);
      history.replaceChildren(h('p', { class: 'alert', role: 'alert' }, error.message));
    } finally {
      historyButton.disabled = false;
    }
  }

  void refresh();
  return () => {
    disposed = true;
    clearTimeout(timer);
  };
}
