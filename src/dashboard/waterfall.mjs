// A run's waterfall (every step, call, wait and child run on one time axis), the drill-down into one call,
// the tree of agent and child runs, and a batch's failed items.
import { operatorApi, UnauthorizedError } from './api.mjs';
import {
  formatCost,
  formatCount,
  formatDuration,
  formatHitRate,
  h,
  prettyJson,
  statusBadge,
  table,
  timeElement,
} from './dom.mjs';

const KIND_LABELS = {
  step: 'step',
  model: 'model call',
  tool: 'tool call',
  activity: 'activity',
  retry_wait: 'retry wait',
  timer: 'timer',
  approval: 'approval',
  child: 'child run',
};

/** The time axis: from the first start to the last end (or now, while something runs). */
function axisOf(spans, now) {
  const starts = spans.map((span) => Date.parse(span.start)).filter(Number.isFinite);
  const ends = spans.map((span) => (span.end ? Date.parse(span.end) : now)).filter(Number.isFinite);
  const from = Math.min(...starts);
  const to = Math.max(from + 1, ...ends);
  return { from, to };
}

/** What a span shows next to its bar: duration, and for model calls model, tokens, cache hit and cost. */
export function spanFigures(span) {
  const parts = [];
  const duration = formatDuration(span.start, span.end);
  if (duration) parts.push(duration);
  if (span.model) {
    const m = span.model;
    parts.push(m.model ?? m.deployment);
    parts.push(
      `${formatCount(m.inputTokens + m.cacheReadTokens + m.cacheWriteTokens)} in / ${formatCount(m.outputTokens)} out`,
    );
    parts.push(`cache ${formatHitRate(m.cacheHitRate)}`);
    parts.push(formatCost(m.costUsd));
  }
  if (span.error) parts.push(span.error);
  return parts.join(' · ');
}

function spanLabel(span) {
  return `${KIND_LABELS[span.kind] ?? span.kind}: ${span.name}`;
}

/**
 * The waterfall as a list of rows: a button with the span's name (indented by depth), its bar on the shared
 * axis, and its figures. Bars are positioned through the CSSOM (the page's CSP allows no style attributes).
 */
export function waterfallView(run, onSelect, now = Date.now()) {
  const spans = Array.isArray(run.waterfall) ? run.waterfall : [];
  if (spans.length === 0) return h('p', { class: 'muted' }, 'Nothing recorded yet.');
  const { from, to } = axisOf(spans, now);
  const total = to - from;
  const rows = spans.map((span) => {
    const start = Date.parse(span.start);
    const end = span.end ? Date.parse(span.end) : now;
    const bar = h('span', { class: `wf-bar wf-${span.kind} wf-${span.status}`, 'aria-hidden': 'true' });
    bar.style.setProperty('left', `${(((start - from) / total) * 100).toFixed(3)}%`);
    bar.style.setProperty('width', `max(2px, ${(((end - start) / total) * 100).toFixed(3)}%)`);
    const label = h(
      'button',
      {
        type: 'button',
        class: 'wf-label',
        'data-span': span.id,
        'aria-label': `${spanLabel(span)}, ${span.status}${span.detail ? ', open the call' : ''}`,
        onclick: () => onSelect(span),
      },
      h('span', { class: 'wf-kind' }, KIND_LABELS[span.kind] ?? span.kind),
      ' ',
      span.name,
    );
    label.style.setProperty('padding-left', `${0.4 + span.depth * 1.2}rem`);
    return h(
      'li',
      { class: `wf-row wf-depth-${Math.min(span.depth, 4)}` },
      label,
      h('span', { class: 'wf-track' }, bar),
      h('span', { class: 'wf-figures' }, statusBadge(span.status), ' ', spanFigures(span)),
    );
  });
  return [
    h(
      'p',
      { class: 'hint' },
      `${spans.length} bars from `,
      timeElement(new Date(from).toISOString(), { timeOnly: true }),
      ` over ${formatDuration(new Date(from).toISOString(), new Date(to).toISOString())}. Choose a bar to see its details; model and tool calls open their prompt, answer, arguments and result.`,
    ),
    h('ol', { class: 'waterfall', 'aria-label': 'Waterfall' }, rows),
  ];
}

function field(term, value) {
  return [h('dt', {}, term), h('dd', {}, value)];
}

function messagesView(messages) {
  return messages.map((message) =>
    h(
      'div',
      { class: 'message' },
      h('h4', {}, message.role ?? 'message'),
      (Array.isArray(message.content) ? message.content : [message.content]).map((block) => {
        if (block?.type === 'text') return h('pre', { class: 'text' }, block.text);
        if (block?.type === 'tool_result')
          return h(
            'pre',
            { class: 'text' },
            `tool result ${block.toolUseId}${block.isError ? ' (error)' : ''}:\n${block.content}`,
          );
        if (block?.type === 'tool_use')
          return h(
            'pre',
            { class: 'text' },
            `tool call ${block.name} ${block.id}:\n${prettyJson(block.input)}`,
          );
        if (block?.type === 'thinking')
          return h('pre', { class: 'text muted' }, `thinking:\n${block.thinking}`);
        return h('pre', {}, prettyJson(block));
      }),
    ),
  );
}

/** What one span says, and for a model or tool call what the drill-down endpoint answers. */
export function spanDetailView(span, call) {
  const parts = [
    h('h3', { id: 'span-heading', tabindex: '-1' }, spanLabel(span)),
    h(
      'dl',
      { class: 'summary' },
      field('Status', statusBadge(span.status)),
      span.stepId ? field('Step', span.stepId) : null,
      field('Instance', h('code', {}, span.instanceId)),
      field('Started', timeElement(span.start)),
      span.end ? field('Ended', timeElement(span.end)) : null,
      span.end ? field('Duration', formatDuration(span.start, span.end)) : null,
      span.model
        ? field(
            'Model',
            `${span.model.provider} ${span.model.deployment}${span.model.model ? ` (${span.model.model})` : ''}`,
          )
        : null,
      span.model
        ? field(
            'Tokens',
            `${formatCount(span.model.inputTokens)} in, ${formatCount(span.model.outputTokens)} out, ` +
              `${formatCount(span.model.cacheWriteTokens)} cache write, ${formatCount(span.model.cacheReadTokens)} cache read`,
          )
        : null,
      span.model ? field('Cache hit', formatHitRate(span.model.cacheHitRate)) : null,
      span.model ? field('Cost', formatCost(span.model.costUsd)) : null,
      span.model?.latencyMs !== undefined
        ? field('Latency', `${formatCount(Math.round(span.model.latencyMs))} ms`)
        : null,
      span.model?.stopReason ? field('Stop reason', span.model.stopReason) : null,
      span.error ? field('Error', span.error) : null,
      span.childId
        ? field('Child run', h('a', { href: `#/runs/${encodeURIComponent(span.childId)}` }, span.childId))
        : null,
    ),
  ];
  if (!call) return parts;
  if (call.request) {
    parts.push(
      h('h4', {}, 'Prompt'),
      call.request.note ? h('p', { class: 'hint' }, call.request.note) : null,
      call.request.system ? [h('h4', {}, 'system'), h('pre', { class: 'text' }, call.request.system)] : null,
      h('div', { class: 'messages' }, messagesView(call.request.messages ?? [])),
    );
  }
  if (call.response) {
    parts.push(
      h('h4', {}, 'Response'),
      h('pre', { class: 'text', 'data-part': 'response' }, call.response.text || '(no text)'),
      call.response.thinking.length > 0
        ? [
            h('h4', {}, 'Thinking summary'),
            h('pre', { class: 'text', 'data-part': 'thinking' }, call.response.thinking.join('\n\n')),
          ]
        : null,
      call.response.toolCalls.length > 0
        ? [
            h('h4', {}, 'Tool calls'),
            call.response.toolCalls.map((tool) =>
              h('pre', { class: 'text' }, `${tool.name} (${tool.id})\n${prettyJson(tool.arguments)}`),
            ),
          ]
        : null,
    );
  }
  if (call.arguments !== undefined)
    parts.push(h('h4', {}, 'Arguments'), h('pre', { 'data-part': 'arguments' }, prettyJson(call.arguments)));
  if (call.result !== undefined)
    parts.push(h('h4', {}, 'Result'), h('pre', { 'data-part': 'result' }, prettyJson(call.result)));
  if (call.failure !== undefined) parts.push(h('h4', {}, 'Failure'), h('pre', {}, prettyJson(call.failure)));
  return parts;
}

/** Shows `span` in `panel`, fetching the call behind it when it has one. */
export async function showSpan(panel, runId, span, ctx) {
  panel.hidden = false;
  panel.replaceChildren(
    ...spanDetailView(span),
    span.detail ? h('p', { role: 'status' }, 'Loading the call…') : null,
  );
  panel.querySelector('#span-heading')?.focus();
  if (!span.detail) return;
  try {
    const call = await operatorApi.getCall(runId, span.eventId, span.instanceId);
    panel.replaceChildren(...spanDetailView(span, call));
    ctx.announce(`Showing ${spanLabel(span)}.`);
  } catch (error) {
    if (error instanceof UnauthorizedError) return ctx.showError(error, panel);
    panel.append(h('p', { class: 'alert', role: 'alert' }, error.message));
  }
}

/** The tree of agent and child runs, each a link to its own page. */
export function childTreeView(children) {
  if (!Array.isArray(children) || children.length === 0)
    return h('p', { class: 'muted' }, 'No agent or child runs.');
  const branch = (nodes) =>
    h(
      'ul',
      { class: 'tree' },
      nodes.map((node) =>
        h(
          'li',
          {},
          h('a', { href: `#/runs/${encodeURIComponent(node.id)}` }, node.id),
          ' ',
          h('span', { class: 'muted' }, `${node.orchestrator}${node.stepId ? `, step ${node.stepId}` : ''}`),
          ' ',
          statusBadge(node.status),
          node.children.length > 0 ? branch(node.children) : null,
        ),
      ),
    );
  return branch(children);
}

/** A batch's failed items with their errors, linked to their runs. */
export function failedItemsView(run) {
  const items = Array.isArray(run.failedItems) ? run.failedItems : [];
  if (items.length === 0) return h('p', { class: 'muted' }, 'No failed items.');
  return table({
    caption: `${items.length} failed item${items.length === 1 ? '' : 's'}${run.batch && run.batch.failed > items.length ? ` (of ${run.batch.failed})` : ''}`,
    columns: [{ label: 'Line', num: true }, { label: 'Run' }, { label: 'Outcome' }, { label: 'Error' }],
    rows: items.map((item) => [
      { value: String(item.line), num: true },
      h('a', { href: `#/runs/${encodeURIComponent(item.runId)}` }, item.runId),
      statusBadge(item.status),
      item.error
        ? `${item.error.kind}${item.error.stepId ? ` at ${item.error.stepId}` : ''}: ${item.error.message}`
        : '—',
    ]),
  });
}
