import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../src/shared/operatorTypes.js';
import { eventually, operatorApi, startWorkflow } from '../operator/operatorClient.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * The "your own tools" path end to end: a workflow in a separate WORKFLOWS_DIR lists a YAML HTTP tool from
 * the tools/ folder beside it (test/fixtures/http-tools). The app runs on the local host with the offline
 * model, which calls the tool; the tool reaches a CRM stand-in on 127.0.0.1 only because
 * URL_POLICY_ALLOW_HOSTS lists it. Without the setting the same call is refused, and the CRM sees nothing.
 */
const appDir = path.resolve(__dirname, '../..');
const fixture = path.resolve(__dirname, '../fixtures/http-tools');
const API_KEY = 'crm-test-key-7f3a9c1e5b2d4a60';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
let crm: Server;
let dir: string;
let host: TestHost | undefined;
const saved = { ...process.env };

beforeAll(async () => {
  crm = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          customer: { name: 'Ada Lovelace', plan: 'enterprise', openTickets: 2 },
          internal: { margin: 'not for the model' },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => crm.listen(0, '127.0.0.1', resolve));
  const port = (crm.address() as AddressInfo).port;
  // A copy of the fixture folder with the CRM's real port in the tool's URL.
  dir = mkdtempSync(path.join(tmpdir(), 'http-tools-app-'));
  cpSync(fixture, dir, { recursive: true });
  const toolFile = path.join(dir, 'tools', 'crm_lookup.yaml');
  writeFileSync(toolFile, readFileSync(toolFile, 'utf8').replace('127.0.0.1:18080', `127.0.0.1:${port}`));
  process.env.OFFLINE_MODEL = 'on';
  process.env.WORKFLOWS_DIR = path.join(dir, 'workflows');
  process.env.CRM_TEST_API_KEY = API_KEY;
});

afterAll(async () => {
  await host?.stop();
  await new Promise<void>((resolve) => crm.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
  process.env = saved;
});

async function runToEnd(): Promise<{ detail: RunDetail; text: string }> {
  const api = operatorApi(host!);
  const id = await startWorkflow(host!, 'crm-check', { email: 'ada@example.com' });
  const detail = await eventually(
    async () => {
      const run = await api.json<RunDetail>(`runs/${id}`);
      return run.status === 'Running' || run.status === 'Pending' ? undefined : run;
    },
    'the crm-check run to finish',
    120_000,
  );
  return { detail, text: JSON.stringify(detail) };
}

const toolSpans = (detail: RunDetail) => detail.waterfall.filter((span) => span.kind === 'tool');

describe('a YAML HTTP tool in a separate WORKFLOWS_DIR', () => {
  it('reaches a loopback service listed in URL_POLICY_ALLOW_HOSTS, and the run completes offline', async () => {
    process.env.URL_POLICY_ALLOW_HOSTS = '127.0.0.1';
    host = await startTestHost({ appDir });
    const { detail, text } = await runToEnd();
    expect(detail.status, text.slice(0, 2000)).toBe('Completed');

    expect(received).toHaveLength(1);
    const [call] = received;
    expect(call).toMatchObject({
      method: 'POST',
      url: '/api/customers/search?source=agent',
      headers: { authorization: `Key ${API_KEY}`, 'content-type': 'application/json' },
    });
    expect(call?.headers['idempotency-key']).toMatch(new RegExp(`^${detail.id}.*:toolu_`));
    // The offline model fills the email from the tool's input schema; the body template shapes the rest.
    expect(JSON.parse(call?.body ?? '{}')).toMatchObject({
      email: expect.any(String) as unknown,
      include: ['account', 'tickets'],
    });

    expect(toolSpans(detail)).toEqual([expect.objectContaining({ tool: 'crm_lookup', status: 'completed' })]);
    expect(text).not.toContain(API_KEY);
    await host.stop();
    host = undefined;
  });

  it('is refused with a clear error when URL_POLICY_ALLOW_HOSTS does not list it, and the service sees nothing', async () => {
    delete process.env.URL_POLICY_ALLOW_HOSTS;
    const before = received.length;
    host = await startTestHost({ appDir });
    const { detail, text } = await runToEnd();
    expect(received.length).toBe(before);
    const [span] = toolSpans(detail);
    expect(span).toMatchObject({ tool: 'crm_lookup', status: 'failed' });
    expect(span?.error).toContain('loopback');
    expect(span?.error).toContain('URL_POLICY_ALLOW_HOSTS');
    expect(text).not.toContain(API_KEY);
  });
});
