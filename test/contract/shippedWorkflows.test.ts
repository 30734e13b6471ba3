import { readFileSync } from 'node:fs';
import { BlobServiceClient } from '@azure/storage-blob';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import {
  startOfflineModelServer,
  type OfflineModelServer,
  type RecordedModelRequest,
} from '../../src/offline/offlineModelServer.js';
import { startFakeTavily, type FakeSearchServer } from '../support/fakeSearchServers.js';
import { invoiceLines, pdfBytes, pngBytes, SAMPLE_INVOICE } from '../support/files.js';
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

/** Every Claude content block of a recorded request's messages, tool results' content included. */
function claudeBlocks(
  request: RecordedModelRequest,
): { type: string; source?: { type: string; media_type: string } }[] {
  const body = request.body as { messages?: { content: unknown }[] };
  return (body.messages ?? []).flatMap((message) =>
    Array.isArray(message.content) ? (message.content as { type: string; source?: never }[]) : [],
  );
}

async function startIntake(body: unknown): Promise<Response> {
  return fetch(`${host.host.url}/api/workflows/document-intake?wait=60`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
    body: JSON.stringify(body),
  });
}

describe('document-intake against the strict Claude endpoint (OFFLINE_MODEL=off)', () => {
  it('reads a PNG in data: the endpoint gets an image block, the ledger its tokens and cost', async () => {
    const before = modelCalls(endpoint.requests).length;
    const response = await startIntake(sample('document-intake'));
    expect(response.status, await response.clone().text()).toBe(200);
    const run = (await response.json()) as RunView;
    expect(run.error, JSON.stringify(run.error)).toBeNull();
    expect(run).toMatchObject({ status: 'Completed', outcome: 'completed' });
    const output = run.output as { fields: typeof SAMPLE_INVOICE; decision: { route: string } };
    // The fields come from the text the PNG carries, as the endpoint read it from the bytes.
    expect(output.fields).toEqual(SAMPLE_INVOICE);
    expect(output.decision).toEqual({ route: 'auto-approved', approvedBy: null });

    const calls = modelCalls(endpoint.requests).slice(before);
    const images = calls.flatMap(claudeBlocks).filter((block) => block.type === 'image');
    expect(images).toHaveLength(1);
    expect(images[0]?.source).toMatchObject({ type: 'base64', media_type: 'image/png' });
    const extract = run.ledger?.rows?.find((row) => row.stepId === 'extract');
    // 64 x 48 px: ceil(3072 / 750) = 5 tokens, priced at the Haiku input rate ($1 per million).
    expect(extract?.files).toEqual({
      images: 1,
      documents: 0,
      pages: 0,
      estimatedTokens: 5,
      estimatedCostUsd: 0.000005,
    });
    expect(run.ledger?.totals.usage.inputTokens).toBeGreaterThan(5);
  });

  it('reads a one-page PDF, routes its total over the threshold to approval, and completes when approved', async () => {
    const invoice = {
      ...SAMPLE_INVOICE,
      lineItems: [{ description: 'Standing desks', quantity: 6, unitPrice: 750, amount: 4500 }],
      total: 4500,
    };
    const pdf = pdfBytes({ lines: ['INVOICE', ...invoiceLines(invoice)], compress: true });
    const before = modelCalls(endpoint.requests).length;
    const response = await fetch(`${host.host.url}/api/workflows/document-intake`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
      body: JSON.stringify({ document: { data: pdf.toString('base64'), mediaType: 'application/pdf' } }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    const { runUrl, approveUrl } = (await response.json()) as { runUrl: string; approveUrl: string };
    const headers = { 'x-functions-key': host.host.keys.functionKey };
    let view: RunView | undefined;
    for (let attempt = 0; attempt < 200; attempt++) {
      const polled = await fetch(runUrl, { headers });
      // 404 (not created yet), Pending and Running mean "not there yet"; stop at the approval wait or an end.
      view = polled.ok ? ((await polled.json()) as RunView) : undefined;
      const waiting = (view?.progress as { waitingFor?: unknown } | null | undefined)?.waitingFor;
      if (view && (waiting || !['Pending', 'Running'].includes(view.status))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(view?.status, JSON.stringify(view)).toBe('Running');
    const approved = await fetch(approveUrl, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ comment: 'checked against the purchase order' }),
    });
    expect(approved.status, await approved.clone().text()).toBeLessThan(300);
    for (let attempt = 0; attempt < 200 && ['Pending', 'Running'].includes(view?.status ?? ''); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = (await (await fetch(runUrl, { headers })).json()) as RunView;
    }
    expect(view?.error, JSON.stringify(view?.error)).toBeNull();
    expect(view).toMatchObject({ status: 'Completed', outcome: 'completed' });
    const output = view?.output as {
      fields: typeof invoice;
      decision: { route: string; approvedBy: string };
    };
    expect(output.fields.total).toBe(4500);
    // The approver is the caller the action was authorized as (here: the function key's scope).
    expect(output.decision).toMatchObject({
      route: 'approval',
      approvedBy: expect.stringMatching(/^key:/) as unknown,
    });

    const calls = modelCalls(endpoint.requests).slice(before);
    const documents = calls.flatMap(claudeBlocks).filter((block) => block.type === 'document');
    expect(documents).toHaveLength(1);
    expect(documents[0]?.source).toMatchObject({ type: 'base64', media_type: 'application/pdf' });
    const extract = view?.ledger?.rows?.find((row) => row.stepId === 'extract');
    // One page: 1,500 tokens, priced at the Haiku input rate.
    expect(extract?.files).toEqual({
      images: 0,
      documents: 1,
      pages: 1,
      estimatedTokens: 1500,
      estimatedCostUsd: 0.0015,
    });
    expect(extract?.usage.inputTokens).toBeGreaterThan(1500);
  });

  it('takes a blob reference from an allowed container and refuses other containers', async () => {
    const png = pngBytes({ width: 30, height: 20, text: { Description: JSON.stringify(SAMPLE_INVOICE) } });
    const service = BlobServiceClient.fromConnectionString(process.env.AzureWebJobsStorage ?? '');
    const container = service.getContainerClient('agent-artifacts');
    await container.createIfNotExists();
    await container.getBlockBlobClient('inbox/receipt.png').uploadData(png);
    const response = await startIntake({ document: { blob: 'agent-artifacts/inbox/receipt.png' } });
    expect(response.status, await response.clone().text()).toBe(200);
    const run = (await response.json()) as RunView;
    expect((run.output as { fields: unknown }).fields).toEqual(SAMPLE_INVOICE);

    const refused = await startIntake({ document: { blob: 'someone-elses/receipt.png' } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: unknown[] }).errors).toEqual([
      {
        pointer: '/document',
        detail:
          'names container "someone-elses", which file references may not use; allowed: agent-artifacts (FILE_BLOB_CONTAINERS)',
      },
    ]);
  });

  it('refuses a file the models cannot take with a 400 naming the problem, before anything starts', async () => {
    const response = await startIntake({
      document: { data: Buffer.from('plain text').toString('base64'), mediaType: 'image/png' },
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { pointer: string; detail: string }[] };
    expect(problem.errors).toEqual([
      {
        pointer: '/document',
        detail: 'is not a PNG, JPEG, GIF, WebP or PDF file (its first bytes match none of them)',
      },
    ]);
    const ssrf = await startIntake({ document: { url: 'http://169.254.169.254/latest/meta-data' } });
    expect(ssrf.status).toBe(400);
    expect(JSON.stringify(await ssrf.json())).toMatch(
      /"pointer":"\/document","detail":"could not be fetched: blocked/,
    );
  });
});
