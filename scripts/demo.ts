import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDevHost } from '../devhost/host.js';

const root = resolve(__dirname, '../..');
const POLL_MS = 250;
const DEADLINE_MS = 60_000;
const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

interface CheckStatus {
  id: string;
  statusQueryGetUri: string;
}

interface Status {
  runtimeStatus: string;
  customStatus?: { step?: string; done?: number; total?: number } | null;
  output?: unknown;
}

interface DigestOutput {
  digest: {
    title: string;
    paragraphCount: number;
    wordCount: number;
    readingMinutes: number;
    summary: string;
  };
  approval: { status: string };
}

async function json<T>(response: Response, expected: number[]): Promise<T> {
  const text = await response.text();
  if (!expected.includes(response.status)) {
    throw new Error(`${response.url} answered ${response.status}: ${text}`);
  }
  return JSON.parse(text) as T;
}

async function followStatus(url: string): Promise<Status> {
  const deadline = Date.now() + DEADLINE_MS;
  let lastProgress = '';
  for (;;) {
    const status = await json<Status>(await fetch(url), [200, 202]);
    const progress = status.customStatus
      ? `${status.customStatus.step} ${status.customStatus.done}/${status.customStatus.total}`
      : status.runtimeStatus;
    if (progress !== lastProgress) console.log(`  ${status.runtimeStatus.padEnd(9)} ${progress}`);
    lastProgress = progress;
    if (TERMINAL.has(status.runtimeStatus)) return status;
    if (Date.now() > deadline)
      throw new Error(`No result after ${DEADLINE_MS / 1000} s; last status: ${progress}`);
    await sleep(POLL_MS);
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(root, 'dist/src/index.js')))
    throw new Error('dist/src/index.js is missing: run `npm run build`.');
  const stateDir = mkdtempSync(join(tmpdir(), 'durable-agents-demo-'));
  const host = await startDevHost({
    appDir: root,
    port: 0,
    stateDir,
    azurite: 'off',
    log: (level, message) => {
      if (level === 'warning' || level === 'error' || level === 'critical')
        console.error(`  [host] ${message}`);
    },
  });
  try {
    console.log(`Local host on ${host.url} (state in ${stateDir})`);
    const document = readFileSync(join(root, 'scripts/samples/document-digest.json'), 'utf8');
    const start = await fetch(`${host.url}/api/workflows/document-digest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.keys.functionKey },
      body: document,
    });
    const accepted = await json<CheckStatus>(start, [202]);
    console.log(`Started run ${accepted.id}; following ${new URL(accepted.statusQueryGetUri).pathname}`);

    const final = await followStatus(accepted.statusQueryGetUri);
    if (final.runtimeStatus !== 'Completed') {
      throw new Error(`Run ended ${final.runtimeStatus}: ${JSON.stringify(final.output)}`);
    }
    const { digest, approval } = final.output as DigestOutput;
    console.log(`\n${digest.title}`);
    console.log(
      `${digest.paragraphCount} paragraphs, ${digest.wordCount} words, ~${digest.readingMinutes} min read (approval: ${approval.status})\n`,
    );
    console.log(digest.summary);
  } finally {
    await host.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
