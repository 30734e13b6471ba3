/**
 * The quickstart: the app on the local host, in this process, with no cloud account. Starts a
 * `research-report` run over HTTP, follows its progress, prints the report and the cost ledger, stops.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDevHost } from '../devhost/host.js';
import { freeLoopbackPorts } from '../devhost/net.js';
import { startAzurite } from '../devhost/storage/azurite.js';

const root = resolve(__dirname, '../..');
const WORKFLOW = 'research-report';
const POLL_MS = 250;
const DEADLINE_MS = 120_000;
const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
}

interface LedgerRow {
  stepId: string;
  role: string;
  provider: string;
  deployment: string;
  calls: number;
  usage: Usage;
  costUsd: number;
  offline: boolean;
}

interface RunView {
  id: string;
  status: string;
  outcome: string | null;
  progress: {
    step?: string;
    stepIndex: number;
    stepCount: number;
    map?: { stepId: string; done: number; total: number };
    waitingFor?: { event: string; until: string };
    costUsd: number;
  } | null;
  output: unknown;
  error: { kind: string; message: string; stepId?: string } | null;
  ledger: { rows?: LedgerRow[]; totals: { calls?: number; usage: Usage; costUsd: number } } | null;
}

interface Report {
  title: string;
  summary: string;
  sections: { heading: string; body: string; sources: string[] }[];
}

const usd = (amount: number) => `$${amount.toFixed(4)}`;

async function json<T>(response: Response, expected: number[]): Promise<T> {
  const text = await response.text();
  if (!expected.includes(response.status)) {
    throw new Error(`${response.url} answered ${response.status}: ${text}`);
  }
  return JSON.parse(text) as T;
}

function describeProgress(run: RunView): string {
  const p = run.progress;
  if (!p) return run.status;
  const step = p.step
    ? `step ${Math.min(p.stepIndex + 1, p.stepCount)}/${p.stepCount} ${p.step}`
    : 'finishing';
  const map = p.map ? `, ${p.map.done}/${p.map.total} done` : '';
  const waiting = p.waitingFor ? `, waiting for "${p.waitingFor.event}" until ${p.waitingFor.until}` : '';
  return `${step}${map}${waiting} (cost so far ${usd(p.costUsd)})`;
}

async function follow(url: string, key: string): Promise<RunView> {
  const deadline = Date.now() + DEADLINE_MS;
  let last = '';
  for (;;) {
    const run = await json<RunView>(await fetch(url, { headers: { 'x-functions-key': key } }), [200]);
    const line = `${run.status.padEnd(9)} ${describeProgress(run)}`;
    if (line !== last) console.log(`  ${line}`);
    last = line;
    if (TERMINAL.has(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`No result after ${DEADLINE_MS / 1000} s; last: ${line}`);
    await sleep(POLL_MS);
  }
}

function printReport(report: Report): void {
  console.log(`\n${report.title}\n${'='.repeat(Math.min(report.title.length, 100))}\n`);
  console.log(`${report.summary}\n`);
  for (const [index, section] of report.sections.entries()) {
    console.log(`${index + 1}. ${section.heading}`);
    const body = section.body.length > 240 ? `${section.body.slice(0, 240)}…` : section.body;
    console.log(`   ${body}`);
    if (section.sources.length > 0) console.log(`   sources: ${section.sources.join(', ')}`);
  }
}

function printLedger(ledger: NonNullable<RunView['ledger']>): void {
  const header = ['step', 'role', 'model', 'calls', 'in', 'out', 'cache w/r', 'cost', 'source'];
  const rows = (ledger.rows ?? []).map((r) => [
    r.stepId,
    r.role,
    `${r.provider}:${r.deployment}`,
    String(r.calls),
    String(r.usage.inputTokens),
    String(r.usage.outputTokens),
    `${r.usage.cacheWriteTokens}/${r.usage.cacheReadTokens}`,
    usd(r.costUsd),
    r.offline ? 'offline' : '',
  ]);
  const t = ledger.totals;
  rows.push([
    'total',
    '',
    '',
    String(t.calls ?? ''),
    String(t.usage.inputTokens),
    String(t.usage.outputTokens),
    `${t.usage.cacheWriteTokens}/${t.usage.cacheReadTokens}`,
    usd(t.costUsd),
    '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = new Set([3, 4, 5, 6, 7]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  console.log(`\nCost ledger\n${line(header)}`);
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach((r, i) => {
    if (i === rows.length - 1) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    console.log(line(r));
  });
}

async function main(): Promise<void> {
  if (!existsSync(join(root, 'dist/src/index.js')))
    throw new Error('dist/src/index.js is missing: run `npm run build`.');
  // The quickstart needs no model account: the offline model answers unless OFFLINE_MODEL says otherwise.
  process.env.OFFLINE_MODEL ??= 'on';
  const stateDir = mkdtempSync(join(tmpdir(), 'durable-agents-demo-'));
  const [blobPort = 0, queuePort = 0, tablePort = 0] = await freeLoopbackPorts(3);
  const azurite = await startAzurite({ blobPort, queuePort, tablePort, inMemory: true });
  process.env.AzureWebJobsStorage = azurite.connectionString;
  let host: Awaited<ReturnType<typeof startDevHost>> | undefined;
  try {
    host = await startDevHost({
      appDir: root,
      port: 0,
      stateDir,
      azurite: 'off',
      log: (level, message) => {
        if (level === 'warning' || level === 'error' || level === 'critical')
          console.error(`  [host] ${message}`);
      },
    });
    const key = host.keys.functionKey;
    console.log(`\nLocal host on ${host.url} (state in ${stateDir})`);
    const sample = readFileSync(join(root, `scripts/samples/${WORKFLOW}.json`), 'utf8');
    console.log(`POST /api/workflows/${WORKFLOW} ${sample.replace(/\s+/g, ' ').trim()}`);
    const accepted = await json<{ id: string; runUrl: string }>(
      await fetch(`${host.url}/api/workflows/${WORKFLOW}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': key },
        body: sample,
      }),
      [202],
    );
    console.log(`Started run ${accepted.id}; following ${new URL(accepted.runUrl).pathname}`);

    const run = await follow(accepted.runUrl, key);
    if (run.status !== 'Completed' || run.outcome !== 'completed') {
      throw new Error(
        `Run ended ${run.status}${run.outcome ? ` (${run.outcome})` : ''}: ${JSON.stringify(run.error)}`,
      );
    }
    printReport(run.output as Report);
    if (run.ledger) printLedger(run.ledger);
    if (run.ledger?.rows?.some((r) => r.offline)) {
      console.log('\nAnswers came from the offline model (no model endpoint is configured), so the text is');
      console.log('a placeholder; tokens and costs are counted as if real. See README "Configuration".');
    }
  } finally {
    await host?.stop();
    await azurite.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
