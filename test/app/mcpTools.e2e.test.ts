import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeMcpServer, type FakeMcpServer } from '../support/fakeMcpServer.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * MCP_SERVERS on the local host: the app lists the server's tools at startup through its URL check, a
 * workflow in its own WORKFLOWS_DIR uses one, and the run start follows from what the listing found.
 */
const appDir = path.resolve(__dirname, '../..');
const workflowsDir = path.resolve(__dirname, '../fixtures/mcp-workflows');

let host: TestHost;
let crm: FakeMcpServer;
const warnings: string[] = [];

beforeAll(async () => {
  crm = await startFakeMcpServer();
  process.env.OFFLINE_MODEL = 'on';
  process.env.WORKFLOWS_DIR = workflowsDir;
  process.env.MCP_SERVERS = JSON.stringify({ crm: { url: crm.url, timeoutMs: 5_000 } });
  // The app's console (in devhost's language worker) reaches this process's stderr.
  const stderr = process.stderr;
  const original = stderr.write.bind(stderr);
  const write = (chunk: string | Uint8Array): boolean => original(chunk);
  const spy = vi.spyOn(stderr, 'write');
  spy.mockImplementation((chunk: string | Uint8Array) => {
    warnings.push(String(chunk));
    return write(chunk);
  });
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
  await crm?.close();
});

const start = (body: unknown) =>
  fetch(`${host.host.url}/api/workflows/customer-brief`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
    body: JSON.stringify(body),
  });

describe('MCP servers as tool sources, on the local host', () => {
  it('loads a workflow using <server>__<tool>, warns that a loopback server is refused, and refuses its runs naming it', async () => {
    // The URL check wired today is the SSRF guard, which refuses loopback before any request is sent.
    const response = await start({ customerId: 'c-7' });
    expect(response.status, await response.clone().text()).toBe(503);
    const problem = (await response.json()) as { type: string; detail: string };
    expect(problem.type).toBe('urn:durable-agents:problem:tools-unavailable');
    expect(problem.detail).toMatch(
      /^Runs of "customer-brief" cannot start now: MCP server "crm" is unreachable \(The URL policy refuses http:\/\/127\.0\.0\.1:\d+\/mcp: .*loopback.*\), so its tool crm__lookup_customer is not available$/,
    );
    expect(crm.requests).toEqual([]);
    // Logged when the startup listing settles, which may be just after the refusal above.
    const warning = await vi.waitFor(() => {
      const found = warnings.find((line) => line.includes('MCP server "crm" could not be listed'));
      if (!found) throw new Error(`no MCP warning yet: ${warnings.join('\n')}`);
      return found;
    });
    expect(warning).toMatch(/loopback.*Runs of customer-brief are refused until it answers\.\n?$/);
  });
});
