import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/functions/runView.js';
import { startOfflineModelServer, type OfflineModelServer } from '../../src/offline/offlineModelServer.js';
import { DEFAULT_PAYLOAD_OFFLOAD_BYTES, PayloadRef } from '../../src/shared/payloadRef.js';
import { startTestHost, type TestHost } from '../support/testHost.js';
import { exportRunFromStore } from '../../scripts/lib/storeExport.js';
import { eventTypeName } from '../../src/replay/history.js';

/**
 * Claim check end to end: an agent whose transcript grows far past the 32 KB threshold (29 searches,
 * about 3.5 KB each, across two generations: continueAsNew after 20 turns) completes, no event of its history (as the durable client returns it, inputs and
 * results included) reaches the threshold, and the transcript's body is in Blob storage, behind
 * references whose size and SHA-256 match it.
 */
const repoRoot = path.resolve(__dirname, '../..');
const TURNS = 30;
const RESULT_CHARS = 2_400; // × 5 results per search
const LONG_NOTES = `name: long-notes
version: 1
description: Test only - an agent that searches until its transcript is far past the claim-check threshold.
input:
  type: object
  additionalProperties: false
  properties: {}
steps:
  - id: search
    kind: agent
    role: worker
    prompt: Keep searching until you have enough.
    tools: [web_search]
    maxTurns: ${TURNS}
output: search
`;

let host: TestHost;
let model: OfflineModelServer;
let search: Server;
let workDir: string;
let largestRequest = 0;

const toolResults = (body: string) => body.split('"tool_result"').length - 1;

async function startFakeTavily(): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          results: Array.from({ length: 5 }, (_, i) => ({
            title: `Source ${i}`,
            url: `https://example.org/${i}`,
            content: `Finding ${i}: `.padEnd(RESULT_CHARS, 'tides and currents '),
          })),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'claim-check-'));
  const workflowsDir = path.join(workDir, 'workflows');
  cpSync(path.join(repoRoot, 'workflows'), workflowsDir, { recursive: true });
  writeFileSync(path.join(workflowsDir, 'long-notes.yaml'), LONG_NOTES);
  search = await startFakeTavily();
  model = await startOfflineModelServer({
    script: (request) => {
      const body = JSON.stringify(request.body);
      largestRequest = Math.max(largestRequest, body.length);
      return toolResults(body) >= TURNS - 1
        ? { kind: 'text', text: 'Enough.' }
        : { kind: 'tool_use', name: 'web_search', input: { query: `search ${toolResults(body)}` } };
    },
  });
  Object.assign(process.env, {
    OFFLINE_MODEL: 'off',
    ANTHROPIC_API_KEY: 'test-anthropic-key',
    ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
    OPENAI_API_KEY: 'test-openai-key',
    OPENAI_BASE_URL: model.openaiBaseUrl,
    WEB_SEARCH_PROVIDER: 'tavily',
    TAVILY_API_KEY: 'test-tavily-key',
    WEB_SEARCH_BASE_URL: `http://127.0.0.1:${(search.address() as AddressInfo).port}`,
    WORKFLOWS_DIR: workflowsDir,
    AGENT_MAX_TURNS: String(TURNS),
  });
  host = await startTestHost({ appDir: repoRoot });
});

afterAll(async () => {
  await host?.stop();
  await model?.stop();
  await new Promise((resolve) => search?.close(resolve));
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface HistoryEvent {
  EventType: string;
  FunctionName?: string;
  Input?: unknown;
  Result?: unknown;
  /** The stored event's JSON length, inputs included. */
  size: number;
}

/**
 * The stored history, inputs included: what the real worker is sent on every replay. The status API trims
 * inputs and scheduling events as the extension does, so it cannot show this.
 */
async function historyOf(instanceId: string): Promise<HistoryEvent[]> {
  const exported = await exportRunFromStore({ stateDir: host.stateDir, instanceId, fullInputs: true });
  const own = exported.instances.find((instance) => instance.instanceId === instanceId);
  expect(own).toBeDefined();
  return (own?.history.events ?? []).map((event) => {
    const raw = event as { EventType: number; Name?: string; Input?: string; Result?: string };
    return {
      EventType: eventTypeName(raw.EventType),
      ...(raw.Name === undefined ? {} : { FunctionName: raw.Name }),
      ...(raw.Input === undefined ? {} : { Input: raw.Input }),
      ...(raw.Result === undefined ? {} : { Result: JSON.parse(raw.Result) as unknown }),
      size: JSON.stringify(event).length,
    };
  });
}

describe('claim check: payloads over the threshold travel by reference', () => {
  it('runs an agent whose transcript is far past 32 KB with every history event below it', async () => {
    const started = await fetch(`${host.host.url}/api/workflows/long-notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.host.keys.functionKey },
      body: '{}',
    });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    const deadline = Date.now() + 120_000;
    const terminal = ['Completed', 'Failed', 'Terminated'];
    while (
      !terminal.includes(host.host.backend.getStatus(id)?.runtimeStatus ?? '') &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const run = (await (
      await fetch(`${host.host.url}/api/runs/${id}`, {
        headers: { 'x-functions-key': host.host.keys.functionKey },
      })
    ).json()) as RunView;
    expect(run.outcome).toBe('completed');

    // The model was sent the whole transcript: several times the threshold.
    expect(largestRequest).toBeGreaterThan(2 * DEFAULT_PAYLOAD_OFFLOAD_BYTES);

    const loop = await historyOf(`${id}:search`);
    const parent = await historyOf(id);
    // The loop's last generation (it continued as new after 20 turns), started from its carry.
    const generation = loop.find((event) => event.EventType === 'ExecutionStarted');
    expect(JSON.stringify(generation)).toContain('\\"generation\\":1');
    expect(
      loop.filter((e) => e.EventType === 'TaskScheduled' && e.FunctionName === 'tool_web_search'),
    ).toHaveLength(TURNS - 1 - 20);
    const sizes = [...parent, ...loop].map((event) => event.size);
    expect(Math.max(...sizes)).toBeLessThan(DEFAULT_PAYLOAD_OFFLOAD_BYTES);

    // The snapshots the loop appended to are in Blob storage, and match their references.
    const refs = loop
      .filter((e) => e.EventType === 'TaskCompleted' && typeof e.Result === 'object' && e.Result !== null)
      .flatMap((e) => {
        const parsed = PayloadRef.safeParse((e.Result as { ref?: unknown }).ref);
        return parsed.success ? [parsed.data] : [];
      });
    expect(refs.length).toBeGreaterThan(1);
    const blobs = BlobServiceClient.fromConnectionString(process.env.AzureWebJobsStorage ?? '');
    const last = refs.at(-1) as PayloadRef;
    const body = await blobs
      .getContainerClient(last.container)
      .getBlockBlobClient(last.path)
      .downloadToBuffer();
    expect(body.length).toBe(last.size);
    expect(createHash('sha256').update(body).digest('hex')).toBe(last.sha256);
    expect(last.size).toBeGreaterThan(2 * DEFAULT_PAYLOAD_OFFLOAD_BYTES);
    const stored = JSON.parse(body.toString('utf8')) as { role: string }[];
    expect(stored[0]).toEqual({
      role: 'user',
      content: [{ type: 'text', text: 'Keep searching until you have enough.' }],
    });
    expect(stored.filter((m) => m.role === 'assistant').length).toBeGreaterThanOrEqual(TURNS - 3);
  });
});
