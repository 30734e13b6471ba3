import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import { startTestHost, type TestHost } from '../support/testHost.js';
import { BAD_CASES, json, ticket, triage, type Call, sendCall } from './badInputs.js';

/**
 * The business HTTP API of the real app (dist/src, built by `npm test`) on the local host, over real HTTP:
 * every route's contract, every bad input with its status and message, and idempotent starts.
 */
const appDir = path.resolve(__dirname, '../..');

let host: TestHost;

beforeAll(async () => {
  Object.assign(process.env, {
    OFFLINE_MODEL: 'on',
    CALLBACK_SIGNING_SECRET: 'contract-test-secret-0123456789abcdef',
    WORKFLOW_REQUESTS_QUEUE: `contract-${process.pid}`,
  });
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
});

const call = (request: Call): Promise<Response> => sendCall(host.host.url, host.host.keys, request);

function countInstances(): number {
  let total = 0;
  let continuationToken: string | undefined;
  do {
    const page = host.host.backend.listInstances({
      top: 1000,
      ...(continuationToken ? { continuationToken } : {}),
    });
    total += page.instances.length;
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return total;
}

describe('bad input: each with its status and message, starting nothing', () => {
  it(`has at least 25 cases (${BAD_CASES.length})`, () => {
    expect(BAD_CASES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(BAD_CASES)('$name → $status', async (bad) => {
    const before = countInstances();
    const response = await call(bad.call);
    const text = await response.text();
    expect(response.status, text).toBe(bad.status);
    if (bad.type !== undefined) {
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const problem = JSON.parse(text) as {
        type: string;
        status: number;
        detail?: string;
        errors?: { pointer?: string; detail: string }[];
      };
      expect(problem.type).toBe(`urn:durable-agents:problem:${bad.type}`);
      expect(problem.status).toBe(bad.status);
      const messages = [problem.detail ?? '', ...(problem.errors ?? []).map((e) => e.detail)];
      if (bad.message !== undefined) {
        const found = messages.some((m) =>
          typeof bad.message === 'string' ? m.includes(bad.message) : bad.message?.test(m),
        );
        expect(found, `${JSON.stringify(messages)} should mention ${String(bad.message)}`).toBe(true);
      }
      if (bad.pointer !== undefined) {
        expect(problem.errors?.map((e) => e.pointer)).toContain(bad.pointer);
      }
    } else {
      // The host's own answers (keys, methods) are problems too, of type about:blank.
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.parse(text)).toMatchObject({ type: 'about:blank', status: bad.status });
    }
    expect(countInstances()).toBe(before);
  });
});

describe('POST /api/workflows/{name}', () => {
  it("answers 202 with runUrl, the run's own action routes and Location, no system-key URLs", async () => {
    const response = await call(triage(ticket));
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as Record<string, string>;
    const runUrl = `${host.host.url}/api/runs/${accepted.id}`;
    expect(accepted).toEqual({
      id: expect.any(String) as unknown,
      runUrl,
      approveUrl: `${runUrl}/approve`,
      rejectUrl: `${runUrl}/reject`,
      cancelUrl: `${runUrl}/cancel`,
    });
    expect(JSON.stringify(accepted)).not.toContain(host.host.keys.systemKey);
    expect(response.headers.get('location')).toBe(runUrl);
    const run = await call({ method: 'GET', path: `/api/runs/${accepted.id}` });
    expect(run.status).toBe(200);
    expect((await run.json()) as RunView).toMatchObject({ id: accepted.id, workflow: 'ticket-triage' });
  });

  it('?wait answers 200 with the finished run: status, workflow and version, output, ledger, times', async () => {
    const response = await call(triage(ticket, { path: '/api/workflows/ticket-triage?wait=30' }));
    expect(response.status, await response.clone().text()).toBe(200);
    const run = (await response.json()) as RunView;
    expect(run).toMatchObject({
      workflow: 'ticket-triage',
      version: '1.0.0',
      status: 'Completed',
      outcome: 'completed',
      error: null,
    });
    expect(run.output).toMatchObject({ triage: { category: expect.any(String) as unknown } });
    expect(run.ledger?.totals.costUsd).toBeGreaterThanOrEqual(0);
    expect(Date.parse(run.createdTime)).toBeLessThanOrEqual(Date.parse(run.lastUpdatedTime));
  });

  it('20 concurrent identical requests with one Idempotency-Key start exactly one run, and all point at it', async () => {
    const before = countInstances();
    const key = `order-${process.pid}-${Date.now()}`;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => call(triage(ticket, { headers: { 'idempotency-key': key } }))),
    );
    // A repeat that arrives once the (fast, offline) run has finished gets the finished run: 200, same id.
    const answers = await Promise.all(
      responses.map(async (r) => ({
        status: r.status,
        location: r.headers.get('location') ?? '',
        body: (await r.json()) as { id: string; runUrl?: string },
      })),
    );
    expect(answers.every((a) => a.status === 202 || a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.status === 202).length).toBeGreaterThanOrEqual(1);
    const ids = new Set(answers.map((a) => a.body.id));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const runUrl = `${host.host.url}/api/runs/${id}`;
    expect(answers.every((a) => (a.status === 202 ? a.body.runUrl === runUrl : a.location === runUrl))).toBe(
      true,
    );
    expect(countInstances() - before).toBe(1);

    // Once finished, a repeat returns the finished run (200) instead of starting it again.
    const deadline = Date.now() + 30_000;
    while (
      host.host.backend.getStatus(id ?? '', {})?.runtimeStatus !== 'Completed' &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const repeat = await call(triage(ticket, { headers: { 'idempotency-key': key } }));
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(((await repeat.json()) as RunView).id).toBe(id);
    expect(countInstances() - before).toBe(1);

    // The same key for another workflow is a conflict, not a second run.
    const other = await call({
      path: '/api/workflows/research-report',
      body: json({ topic: 'Durable agents' }),
      headers: { 'idempotency-key': key },
    });
    expect(other.status).toBe(409);
    expect(((await other.json()) as { detail: string }).detail).toContain(
      'already started a run of "ticket-triage"',
    );
  });

  it('the same Idempotency-Key with a different body is a 422 naming the first run; the same body replays it', async () => {
    const key = `reuse-${process.pid}-${Date.now()}`;
    const first = await call(triage(ticket, { headers: { 'idempotency-key': key } }));
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    const before = countInstances();

    // Stripe's rule (https://docs.stripe.com/api/idempotent_requests): other parameters are an error.
    const other = await call(
      triage({ ...ticket, body: 'A different complaint.' }, { headers: { 'idempotency-key': key } }),
    );
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await other.json()) as { type: string; detail: string; runId: string; runUrl: string };
    expect(problem).toMatchObject({
      type: 'urn:durable-agents:problem:idempotency-key-reused',
      status: 422,
      runId: id,
      runUrl: `${host.host.url}/api/runs/${id}`,
    });
    expect(problem.detail).toContain(`already started run ${id} with a different body`);
    const withCallback = await call(
      triage(ticket, {
        headers: { 'idempotency-key': key, 'callback-url': 'https://hooks.example.com/done' },
      }),
    );
    expect(withCallback.status).toBe(422);

    // The same parameters, spelled in another key order and spacing, are the same request: replayed.
    const reordered = JSON.stringify({ body: ticket.body, subject: ticket.subject }, null, 2);
    const again = await call(triage(reordered, { headers: { 'idempotency-key': key } }));
    expect([200, 202]).toContain(again.status);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(id);
    expect(countInstances()).toBe(before);
  });

  it('keeps keys of different callers apart', async () => {
    const key = `shared-${process.pid}`;
    const a = (await (await call(triage(ticket, { headers: { 'idempotency-key': key } }))).json()) as {
      id: string;
    };
    const b = (await (
      await call(triage(ticket, { headers: { 'idempotency-key': key }, key: host.host.keys.masterKey }))
    ).json()) as { id: string };
    expect(a.id).not.toBe(b.id);
  });
});

describe('GET /api/openapi.json', () => {
  it('describes every workflow with its input schema, the run route, the responses and the key', async () => {
    const response = await call({ method: 'GET', path: '/api/openapi.json' });
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      servers: { url: string }[];
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: { content: Record<string, { schema: { $ref: string } }> };
            responses: Record<string, unknown>;
            parameters?: { name: string }[];
          }
        >
      >;
      components: {
        schemas: Record<string, { required?: string[] }>;
        securitySchemes: Record<string, { type: string; name: string }>;
      };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers[0]?.url).toBe(`${host.host.url}/api`);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/operator/runs',
      '/operator/runs/{id}',
      '/operator/runs/{id}/calls/{eventId}',
      '/operator/workflows',
      '/runs/{id}',
      '/runs/{id}/approve',
      '/runs/{id}/cancel',
      '/runs/{id}/reject',
      '/workflows/data-analysis',
      '/workflows/document-intake',
      '/workflows/research-report',
      '/workflows/ticket-triage',
    ]);
    const start = doc.paths['/workflows/ticket-triage']?.post;
    expect(start?.requestBody?.content['application/json']?.schema.$ref).toBe(
      '#/components/schemas/TicketTriageInput',
    );
    expect(doc.components.schemas.TicketTriageInput?.required).toEqual(['subject', 'body']);
    expect(Object.keys(start?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '202', '400', '404', '413', '415', '422']),
    );
    expect(start?.parameters?.map((p) => p.name)).toEqual(['wait', 'Idempotency-Key', 'Callback-Url']);
    expect(doc.components.securitySchemes.functionKeyHeader).toMatchObject({
      type: 'apiKey',
      name: 'x-functions-key',
    });
  });
});
