import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CallDetail,
  RunDetail,
  RunList,
  WaterfallSpan,
  WorkflowList,
} from '../../src/shared/operatorTypes.js';
import { startTestHost, type TestHost } from '../support/testHost.js';
import { eventually, operatorApi, startWorkflow } from './operatorClient.js';

/** The console's additions to the operator API (issue 17.2) on the built app, offline model. */
const appDir = path.resolve(__dirname, '../..');
const TOPIC = { topic: 'Durable execution for agents', questions: 2, requireApproval: true };

let host: TestHost;
let api: ReturnType<typeof operatorApi>;

beforeAll(async () => {
  process.env.OFFLINE_MODEL = 'on';
  host = await startTestHost({ appDir });
  api = operatorApi(host);
});

afterAll(async () => {
  await host?.stop();
});

const detail = (id: string) => api.json<RunDetail>(`runs/${encodeURIComponent(id)}`);
const finished = (id: string) =>
  eventually(async () => {
    const run = await detail(id);
    return ['Completed', 'Failed', 'Terminated'].includes(run.status) ? run : undefined;
  }, `run ${id} to finish`);
const waiting = (id: string) =>
  eventually(async () => ((await detail(id)).waitingFor ? true : undefined), `run ${id} to wait`);

/** Raises the approval event straight on the Durable HTTP API, as a caller of `sendEventPostUri` does. */
async function raiseRawEvent(id: string, event: string, data: unknown): Promise<void> {
  const code = host.host.keys.systemKey;
  const url = `${host.host.url}/runtime/webhooks/durabletask/instances/${encodeURIComponent(id)}/raiseEvent/${event}?code=${code}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(data),
  });
  expect(response.status).toBe(202);
}

const decimals = (usd: number) => (String(usd).split('.')[1] ?? '').length;

describe('console API', () => {
  let approved: string;
  let rejected: string;
  const triage: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      triage.push(
        await startWorkflow(host, 'ticket-triage', { subject: `Refund ${i}`, body: 'Charged twice.' }),
      );
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // distinct creation seconds
    }
    approved = await startWorkflow(host, 'research-report', TOPIC);
    rejected = await startWorkflow(host, 'research-report', TOPIC);
    await Promise.all([waiting(approved), waiting(rejected)]);
    await raiseRawEvent(approved, 'review', { approved: true, by: 'webhook caller' });
    const refused = await api.call(`runs/${encodeURIComponent(rejected)}/reject`, {
      body: { comment: 'not good enough' },
      headers: { 'x-operator-id': 'rita' },
    });
    expect(refused.status).toBe(202);
    await Promise.all([finished(approved), finished(rejected), ...triage.map(finished)]);
  }, 120_000);

  it('lists runs newest first, with an outcome column where a rejection is not a success', async () => {
    const { runs } = await api.json<RunList>('runs?pageSize=200');
    const created = runs.map((run) => run.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    const order = [rejected, approved, ...[...triage].reverse()].map((id) =>
      runs.findIndex((r) => r.id === id),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    // Both research runs started within the same second or two; the triage runs strictly before them.
    expect(Math.max(order[0] as number, order[1] as number)).toBeLessThan(order[2] as number);
    expect(order.slice(2)).toEqual([...order.slice(2)].sort((a, b) => a - b));
    const byId = new Map(runs.map((run) => [run.id, run]));
    expect(byId.get(approved)).toMatchObject({ kind: 'run', outcome: 'completed' });
    expect(byId.get(rejected)).toMatchObject({ kind: 'run', outcome: 'rejected' });
    expect(byId.get(triage[0] as string)).toMatchObject({ outcome: 'completed', workflow: 'ticket-triage' });
  });

  it('pages newest first with the continuation token, each run once', async () => {
    const all = (await api.json<RunList>('runs?pageSize=200')).runs.map((r) => r.id);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await api.json<RunList>(
        `runs?pageSize=2${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      );
      seen.push(...page.runs.map((r) => r.id));
      token = page.continuationToken;
    } while (token && seen.length < 100);
    expect(seen).toEqual(all);
  });

  it('lists the known workflows for the filter', async () => {
    const { workflows } = await api.json<WorkflowList>('workflows');
    expect(workflows.map((w) => w.name)).toEqual([
      'data-analysis',
      'document-intake',
      'research-report',
      'ticket-triage',
    ]);
    expect(workflows.every((w) => String(w.version).length > 0)).toBe(true);
    const filtered = await api.json<RunList>('runs?workflow=ticket-triage&pageSize=200');
    expect(filtered.runs.map((r) => r.id).sort()).toEqual([...triage].sort());
  });

  it('keeps costs free of float noise', async () => {
    const { runs } = await api.json<RunList>('runs?pageSize=200');
    const run = await detail(approved);
    const costs = [
      ...runs.map((r) => r.costUsd),
      ...run.timeline.map((step) => step.costUsd),
      ...run.waterfall.flatMap((span) => (span.model ? [span.model.costUsd] : [])),
    ];
    expect(costs.some((cost) => cost > 0)).toBe(true);
    for (const cost of costs) expect(decimals(cost)).toBeLessThanOrEqual(10);
  });

  it('draws the waterfall: steps, model calls with figures, tool calls, agent runs and the approval', async () => {
    const run = await detail(approved);
    const spans = run.waterfall;
    const kinds = new Set(spans.map((span) => span.kind));
    for (const kind of ['step', 'model', 'tool', 'child', 'approval'] as const) expect(kinds).toContain(kind);
    expect(spans.filter((s) => s.kind === 'step').map((s) => s.name)).toEqual(
      run.timeline.filter((step) => step.startedAt).map((step) => step.stepId),
    );
    const model = spans.find((s) => s.kind === 'model' && s.depth === 0) as WaterfallSpan;
    expect(model.stepId).toBe('plan');
    expect(model.model).toMatchObject({
      provider: expect.any(String) as unknown,
      deployment: expect.any(String) as unknown,
    });
    expect(model.model?.inputTokens).toBeGreaterThan(0);
    expect(model.model?.latencyMs).toBeGreaterThanOrEqual(0);
    const agents = spans.filter((s) => s.kind === 'child');
    expect(agents.map((s) => s.childId)).toContain(`${approved}:research:0`);
    // The agent's own calls follow its bar, one level deeper.
    const agentIndex = spans.findIndex((s) => s.childId === `${approved}:research:0`);
    const inside = spans[agentIndex + 1] as WaterfallSpan;
    expect(inside.instanceId).toBe(`${approved}:research:0`);
    expect(inside.depth).toBe(1);
    expect(inside.stepId).toBe('research');
    const tool = spans.find((s) => s.kind === 'tool') as WaterfallSpan;
    expect(['web_search', 'fetch_url']).toContain(tool.tool);
    const approval = spans.find((s) => s.kind === 'approval') as WaterfallSpan;
    expect(approval).toMatchObject({ name: 'review', stepId: 'review', status: 'completed' });
    for (const span of spans) {
      if (span.end !== undefined) expect(Date.parse(span.end)).toBeGreaterThanOrEqual(Date.parse(span.start));
    }
  });

  it('shows the tree of agent runs', async () => {
    const run = await detail(approved);
    expect(run.children.map((child) => child.id)).toEqual(
      expect.arrayContaining([`${approved}:research:0`, `${approved}:research:1`]),
    );
    expect(run.children.every((child) => child.status === 'Completed' && child.stepId === 'research')).toBe(
      true,
    );
  });

  it('drills into a model call and a tool call of an agent: prompt, answer, arguments, result', async () => {
    const run = await detail(approved);
    const agentId = `${approved}:research:0`;
    const calls = run.waterfall.filter((s) => s.instanceId === agentId && s.detail);
    const model = calls.find((s) => s.kind === 'model') as WaterfallSpan;
    const get = (span: WaterfallSpan) =>
      api.json<CallDetail>(
        `runs/${encodeURIComponent(approved)}/calls/${span.eventId}?instance=${encodeURIComponent(span.instanceId)}`,
      );
    const first = await get(model);
    expect(first.request?.messages.length).toBeGreaterThan(0);
    expect(JSON.stringify(first.request?.messages[0])).toContain('"role":"user"');
    expect(first.request?.system).toEqual(expect.any(String));
    expect(first.response).toBeDefined();
    const tool = calls.find((s) => s.kind === 'tool') as WaterfallSpan;
    const toolDetail = await get(tool);
    expect(toolDetail.arguments).toEqual(expect.any(Object));
    expect(toolDetail.result).toMatchObject({ name: tool.tool, isError: expect.any(Boolean) as unknown });
    // The model call after the tool saw its result in its prompt.
    const later = calls.find((s) => s.kind === 'model' && (s.eventId ?? 0) > (tool.eventId ?? 0));
    if (later) {
      const second = await get(later);
      expect(JSON.stringify(second.request?.messages)).toContain('tool_result');
    }
  });

  it('refuses a call outside the run and an event that is no call', async () => {
    const outside = await api.call(
      `runs/${encodeURIComponent(approved)}/calls/1?instance=${encodeURIComponent(rejected)}`,
    );
    expect(outside.status).toBe(400);
    const notNumber = await api.call(`runs/${encodeURIComponent(approved)}/calls/abc`);
    expect(notNumber.status).toBe(400);
    const none = await api.call(`runs/${encodeURIComponent(approved)}/calls/99999`);
    expect(none.status).toBe(404);
  });

  it('audits an approval raised straight on the Durable API, next to the operator’s rejection', async () => {
    const run = await detail(approved);
    expect(run.actions).toContainEqual(
      expect.objectContaining({ action: 'approve', event: 'review', via: 'event', by: 'unknown' }),
    );
    expect(run.approvals).toContainEqual(expect.objectContaining({ event: 'review', approved: true }));
    const refused = await detail(rejected);
    const decisions = refused.actions.filter((a) => a.action === 'reject');
    expect(decisions).toEqual([expect.objectContaining({ by: 'rita', comment: 'not good enough' })]);
  });
});
