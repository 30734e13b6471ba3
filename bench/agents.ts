import { announceEndpoints, startEndpointsProcess } from './endpointsProcess.js';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevHost, type DevHost } from '../devhost/host.js';
import { freeLoopbackPorts } from '../devhost/net.js';
import { startAzurite } from '../devhost/storage/azurite.js';
import { costUsd, findPrice } from '../src/models/cost.js';
import { DEFAULT_PRICES } from '../src/models/prices.js';
import { startOfflineModelServer, type RecordedModelRequest } from '../src/offline/offlineModelServer.js';
import type { ModelReply } from '../src/offline/wire.js';
import type { RunView } from '../src/functions/runView.js';
import { hitRateText } from '../src/shared/cacheHitRate.js';
import {
  costSince,
  printTables,
  repeat,
  REPETITIONS,
  TABLES_PREFIX,
  toRow,
  type Row,
  type Table,
} from './measure.js';

/**
 * Agent-workflow benchmarks, run in their own process (a process hosts one app): the real app on
 * devhost against a scripted model with fixed latency. Prints a JSON line `TABLES <json>` at the end
 * (`--print` also prints the table itself).
 */
const repoRoot = path.resolve(__dirname, '../..');
const MODEL_LATENCY_MS = 300;
const QUESTIONS = 16;
const CONCURRENCY = 8;
const LONG_LOOP_TURNS = 200;
const PLANNER_DEPLOYMENT = 'claude-opus-4-8';

const LONG_AGENT_WORKFLOW = `name: long-agent
version: 1
description: Benchmark only - one agent step that searches for ${LONG_LOOP_TURNS} turns.
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
    maxTurns: ${LONG_LOOP_TURNS}
output: search
`;

const toolResults = (request: RecordedModelRequest) =>
  JSON.stringify(request.body).split('"tool_result"').length - 1;

/**
 * Research runs: every call takes MODEL_LATENCY_MS; each researcher searches once, then answers (the
 * offline model fills the schemas). The long loop asks for another search until its last turn.
 */
function script(request: RecordedModelRequest): ModelReply {
  const body = JSON.stringify(request.body);
  if (body.includes('Keep searching until you have enough.')) {
    return toolResults(request) >= LONG_LOOP_TURNS - 1
      ? { kind: 'text', text: 'Enough.' }
      : { kind: 'tool_use', name: 'web_search', input: { query: `search ${toolResults(request)}` } };
  }
  if (request.view?.model === PLANNER_DEPLOYMENT) {
    const questions = Array.from({ length: QUESTIONS }, (_, i) => `Research question number ${i + 1}?`);
    return { kind: 'structured', value: { questions }, delayMs: MODEL_LATENCY_MS };
  }
  if (request.view?.tools.some((t) => t.name === 'web_search') && !request.view.hasToolResult) {
    return {
      kind: 'tool_use',
      name: 'web_search',
      input: { query: request.view.lastUserText.slice(0, 80) },
      delayMs: MODEL_LATENCY_MS,
    };
  }
  return { kind: 'offline', delayMs: MODEL_LATENCY_MS };
}

async function startFakeTavily(): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ results: [{ title: 'A source', url: 'https://example.org/a', content: 'Facts.' }] }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function startRun(host: DevHost, workflow: string, input: unknown): Promise<string> {
  const response = await fetch(`${host.url}/api/workflows/${workflow}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': host.keys.functionKey },
    body: JSON.stringify(input),
  });
  if (response.status !== 202)
    throw new Error(`starting ${workflow}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** Waits on the engine directly (polling over HTTP would steal CPU from the run), then reads the run view once. */
async function finished(host: DevHost, id: string, onPoll?: () => Promise<void>): Promise<RunView> {
  for (;;) {
    const status = host.backend.getStatus(id)?.runtimeStatus;
    if (status === 'Completed' || status === 'Failed' || status === 'Terminated') break;
    await onPoll?.();
    await new Promise((r) => setTimeout(r, 2));
  }
  const response = await fetch(`${host.url}/api/runs/${id}`, {
    headers: { 'x-functions-key': host.keys.functionKey },
  });
  return (await response.json()) as RunView;
}

async function researchReport(host: DevHost): Promise<Row[]> {
  // Warm up (JIT, SDK clients, schema compilation) with a small run, as a long-running host would be.
  await finished(
    host,
    await startRun(host, 'research-report', { topic: 'Warm-up', questions: 2, concurrency: 2 }),
  );
  // plan, then ceil(16/8) rounds of agents (a search turn and an answer turn each), then the report.
  const idealMs = (1 + Math.ceil(QUESTIONS / CONCURRENCY) * 2 + 1) * MODEL_LATENCY_MS;
  const planner = findPrice(DEFAULT_PRICES, PLANNER_DEPLOYMENT);
  if (!planner) throw new Error(`no price for ${PLANNER_DEPLOYMENT}`);
  const [ratios = [], costRatios = []] = await repeat(async () => {
    const cost = costSince(host);
    const started = performance.now();
    const id = await startRun(host, 'research-report', {
      topic: 'Durable agents',
      questions: QUESTIONS,
      concurrency: CONCURRENCY,
    });
    const run = await finished(host, id);
    const wallMs = performance.now() - started;
    if (run.outcome !== 'completed')
      throw new Error(`research-report ended ${run.outcome}: ${JSON.stringify(run.error)}`);
    const rows = run.ledger?.rows ?? [];
    const spent = { ...cost(), units: rows.reduce((sum, row) => sum + row.calls, 0) };
    const routed = rows.reduce((sum, row) => sum + row.costUsd, 0);
    const allPlanner = rows.reduce((sum, row) => sum + costUsd(row.usage, planner), 0);
    const hitRate = run.ledger?.totals.cacheHitRate ?? null;
    return [
      { value: wallMs / idealMs, note: `${wallMs.toFixed(0)} ms ÷ ${idealMs} ms`, ...spent },
      {
        value: routed / allPlanner,
        note: `$${routed.toFixed(4)} ÷ $${allPlanner.toFixed(4)}; cache hit ${hitRateText(hitRate)}`,
        ...spent,
      },
    ];
  });
  return [
    toRow(
      {
        scenario: `research-report, ${QUESTIONS} questions, concurrency ${CONCURRENCY}, ${MODEL_LATENCY_MS} ms/call: wall ÷ ideal`,
        target: '≤ 1.15',
        digits: 3,
        ok: (m) => m <= 1.15,
        cpuUnit: 'model call',
      },
      ratios,
    ),
    toRow(
      {
        scenario:
          'research-report ledger, prompt caching on: routed roles ÷ every role at planner (Opus) prices',
        target: '≤ 0.20',
        digits: 3,
        ok: (m) => m <= 0.2,
        cpuUnit: 'model call',
      },
      costRatios,
    ),
  ];
}

async function longAgentLoop(host: DevHost): Promise<Row[]> {
  const [seconds = [], largest = []] = await repeat(async () => {
    const cost = costSince(host);
    const id = await startRun(host, 'long-agent', {});
    const loopId = encodeURIComponent(`${id}:search`);
    const historyBytes = new Map<number, number>();
    const sample = async () => {
      const response = await fetch(`${host.url}/durabletask/instances/${loopId}?showHistory=true`);
      if (!response.ok) return;
      const status = (await response.json()) as {
        customStatus?: { generation?: number };
        historyEvents?: unknown[];
      };
      const generation = status.customStatus?.generation ?? 0;
      const bytes = JSON.stringify(status.historyEvents ?? []).length;
      historyBytes.set(generation, Math.max(historyBytes.get(generation) ?? 0, bytes));
    };
    const started = performance.now();
    const run = await finished(host, id, sample);
    const wallMs = performance.now() - started;
    if (run.outcome !== 'completed') throw new Error(`the long agent loop ended ${run.outcome}`);
    const spent = { ...cost(), units: LONG_LOOP_TURNS };
    const perGeneration = [...historyBytes.entries()].sort(([a], [b]) => a - b);
    return [
      { value: wallMs / 1000, ...spent },
      {
        value: Math.max(...perGeneration.map(([, bytes]) => bytes)) / 1024,
        note: perGeneration.map(([g, bytes]) => `g${g}:${(bytes / 1024).toFixed(0)}K`).join(' '),
        ...spent,
      },
    ];
  });
  return [
    toRow(
      {
        scenario: `${LONG_LOOP_TURNS}-turn agent loop (one web_search per turn): seconds to complete`,
        target: 'completes',
        digits: 1,
        ok: () => true,
        cpuUnit: 'turn',
      },
      seconds,
    ),
    toRow(
      {
        scenario:
          'agent loop history per generation: largest KiB seen while polling (stored, inputs included)',
        target: 'bounded',
        digits: 0,
        ok: () => true,
        cpuUnit: 'turn',
      },
      largest,
    ),
  ];
}

const AGENTS_FOOTNOTE =
  `median of ${REPETITIONS} repetitions (min–max beside it) on one warmed-up host, the real app against a ` +
  `scripted model answering in ${MODEL_LATENCY_MS} ms and a fake search API, both in another process. host CPU: ` +
  'process.cpuUsage() of the host process (devhost, the app on its language worker thread, polling), not the ' +
  'model/search process nor Azurite, per model call or agent turn; the long loop also polls its history over ' +
  'HTTP. real worker bytes/episode: every orchestrator episode of the run and its sub-orchestrations, replay ' +
  'payload in / answer out with every stored input the extension resends (devhost/durable/wireMeter.ts).';

/** The model and search endpoints are remote in production: serve them from another process here too. */
async function serveEndpoints(): Promise<void> {
  const model = await startOfflineModelServer({ script });
  const tavily = await startFakeTavily();
  announceEndpoints({
    anthropicBaseUrl: model.anthropicBaseUrl,
    openaiBaseUrl: model.openaiBaseUrl,
    tavilyUrl: `http://127.0.0.1:${(tavily.address() as AddressInfo).port}`,
  });
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'bench-agents-'));
  const workflowsDir = path.join(workDir, 'workflows');
  cpSync(path.join(repoRoot, 'workflows'), workflowsDir, { recursive: true });
  writeFileSync(path.join(workflowsDir, 'long-agent.yaml'), LONG_AGENT_WORKFLOW);
  const remote = await startEndpointsProcess(__filename, '--serve-endpoints');
  const { endpoints } = remote;
  const { anthropicBaseUrl = '', openaiBaseUrl = '', tavilyUrl = '' } = endpoints;
  const [blobPort = 0, queuePort = 0, tablePort = 0] = await freeLoopbackPorts(3);
  const azurite = await startAzurite({ blobPort, queuePort, tablePort, inMemory: true });
  Object.assign(process.env, {
    OFFLINE_MODEL: 'off',
    ANTHROPIC_API_KEY: 'bench-key',
    ANTHROPIC_BASE_URL: anthropicBaseUrl,
    OPENAI_API_KEY: 'bench-key',
    OPENAI_BASE_URL: openaiBaseUrl,
    WEB_SEARCH_PROVIDER: 'tavily',
    TAVILY_API_KEY: 'bench-key',
    WEB_SEARCH_BASE_URL: tavilyUrl,
    WORKFLOWS_DIR: workflowsDir,
    AGENT_MAX_TURNS: String(LONG_LOOP_TURNS),
    AzureWebJobsStorage: azurite.connectionString,
  });
  const host = await startDevHost({
    appDir: repoRoot,
    port: 0,
    stateDir: path.join(workDir, 'state'),
    azurite: 'off',
    log: () => {},
  });
  const rows: Row[] = [];
  try {
    rows.push(...(await researchReport(host)));
    // `--only research-report` runs just the research-report rows (e.g. to check the cost ratio).
    if (!process.argv.includes('--only')) rows.push(...(await longAgentLoop(host)));
  } finally {
    await host.stop();
    remote.stop();
    await azurite.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  const tables: Table[] = [
    { title: 'Agent workflows (real app on devhost)', rows, footnote: AGENTS_FOOTNOTE },
  ];
  if (process.argv.includes('--print')) printTables(tables, (text) => process.stdout.write(text));
  process.stdout.write(`${TABLES_PREFIX}${JSON.stringify(tables)}\n`);
}

(process.argv.includes('--serve-endpoints') ? serveEndpoints() : main()).catch((error: unknown) => {
  process.stderr.write(`agent benchmarks failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
