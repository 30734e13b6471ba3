import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import { startFakeMcpServer, type FakeMcpServer } from '../support/fakeMcpServer.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * A workflow in its own WORKFLOWS_DIR calls a tool of a loopback MCP server, allowed by
 * URL_POLICY_ALLOW_HOSTS=127.0.0.1, and completes on the offline model; the server receives the call.
 * Without the allow-list the same server is refused (mcpTools.e2e.test.ts).
 */
const appDir = path.resolve(__dirname, '../..');

let host: TestHost | undefined;
let crm: FakeMcpServer | undefined;

describe('an MCP tool in a workflow, on the local host', () => {
  beforeAll(async () => {
    crm = await startFakeMcpServer();
    process.env.OFFLINE_MODEL = 'on';
    process.env.WORKFLOWS_DIR = path.resolve(__dirname, '../fixtures/mcp-workflows');
    process.env.URL_POLICY_ALLOW_HOSTS = '127.0.0.1';
    process.env.MCP_SERVERS = JSON.stringify({ crm: { url: crm.url } });
    host = await startTestHost({ appDir });
  });

  afterAll(async () => {
    await host?.stop();
    await crm?.close();
  });

  it('completes offline, and the MCP server receives the call', async () => {
    const started = await fetch(`${host!.host.url}/api/workflows/customer-brief?wait=60`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host!.host.keys.functionKey },
      body: JSON.stringify({ customerId: 'c-9' }),
    });
    expect(started.status, await started.clone().text()).toBe(200);
    const run = (await started.json()) as RunView;
    expect(run).toMatchObject({ workflow: 'customer-brief', status: 'Completed', outcome: 'completed' });
    expect(crm!.calls.filter((call) => call.tool === 'lookup_customer').length).toBeGreaterThan(0);
  });
});
