import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import {
  startOfflineModelServer,
  type OfflineModelServer,
  type RecordedModelRequest,
} from '../../src/offline/offlineModelServer.js';
import { startFakeTavily, type FakeSearchServer } from '../support/fakeSearchServers.js';
import { startTestHost, type TestHost } from '../support/testHost.js';

/**
 * The shipped workflows against an endpoint that enforces the real APIs' request rules, configured as a
 * real deployment would be (`OFFLINE_MODEL=off`): the Claude roles on the Claude API at
 * `ANTHROPIC_BASE_URL`, the writer on Azure OpenAI v1 at an `http://127.0.0.1:<port>` `AZURE_OPENAI_ENDPOINT`.
 * The endpoint is the strict offline model with no script, so every request the app builds from the
 * workflows' real schemas, prompts and tools reaches its rules; any request Claude or GPT would reject
 * gets that provider's 400 and fails the run (400s are not retried).
 */
const appDir = path.resolve(__dirname, '../..');
const WORKFLOWS = ['ticket-triage', 'research-report', 'data-analysis'] as const;

let host: TestHost;
let endpoint: OfflineModelServer;
let search: FakeSearchServer;

const sample = (workflow: string): unknown =>
  JSON.parse(readFileSync(path.join(appDir, 'scripts/samples', `${workflow}.json`), 'utf8'));

const modelCalls = (requests: readonly RecordedModelRequest[]) =>
  requests.filter((r) => r.method === 'POST' && r.protocol !== undefined);

beforeAll(async () => {
  endpoint = await startOfflineModelServer();
  search = await startFakeTavily({ apiKey: 'contract-tavily-key' });
  Object.assign(process.env, {
    OFFLINE_MODEL: 'off',
    ANTHROPIC_API_KEY: 'contract-anthropic-key',
    ANTHROPIC_BASE_URL: endpoint.anthropicBaseUrl,
    AZURE_OPENAI_ENDPOINT: endpoint.url,
    AZURE_OPENAI_API_KEY: 'contract-azure-openai-key',
    WEB_SEARCH_PROVIDER: 'tavily',
    TAVILY_API_KEY: 'contract-tavily-key',
    WEB_SEARCH_BASE_URL: search.baseUrl,
  });
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  await host?.stop();
  await endpoint?.stop();
  await search?.close();
});

describe('the shipped workflows against the strict endpoints (OFFLINE_MODEL=off)', () => {
  it.each(WORKFLOWS)('%s completes with no request rejected', async (workflow) => {
    const before = modelCalls(endpoint.requests).length;
    const response = await fetch(`${host.host.url}/api/workflows/${workflow}?wait=60`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
      body: JSON.stringify(sample(workflow)),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const run = (await response.json()) as RunView;
    expect(run.error, JSON.stringify(run.error)).toBeNull();
    expect(run).toMatchObject({ status: 'Completed', outcome: 'completed' });

    const calls = modelCalls(endpoint.requests).slice(before);
    expect(calls.length).toBeGreaterThan(0);
    // Both wire protocols were exercised where the workflow routes to both.
    const protocols = new Set(calls.map((r) => `${r.protocol}:${r.path}`));
    if (workflow !== 'ticket-triage') {
      expect([...protocols].some((p) => p.startsWith('openai:/openai/v1/'))).toBe(true);
    }
    expect([...protocols].some((p) => p.startsWith('anthropic:/v1/messages'))).toBe(true);
    // Every call the endpoint answered is in the run's ledger: none was rejected and retried elsewhere.
    const ledgerCalls = (run.ledger?.rows ?? []).reduce((sum, row) => sum + row.calls, 0);
    expect(ledgerCalls).toBe(calls.length);
    expect((run.ledger?.rows ?? []).every((row) => row.offline)).toBe(true);
  });
});
