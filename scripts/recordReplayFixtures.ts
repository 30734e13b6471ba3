/**
 * Records the replay fixtures (test/fixtures/replay/*.json): runs every shipped workflow
 * (workflows/*.yaml) once on the local host with the offline model, the sample input of
 * scripts/samples/<name>.json (research-report with its approval step on, approved through the operator
 * API), and writes each run's histories with its definition as a run export (src/replay/exportFile.ts).
 * test/replay/fixtures.test.ts replays them against the current build in `npm test`.
 *
 *   npm run build && node dist/scripts/recordReplayFixtures.js [--out <dir>] [--only <workflow>,…]
 *
 * `--app <dir>` runs another app folder (test/business/callback-app lets callbacks reach loopback),
 * `--callback` starts each run with a completion callback to a loopback receiver, `--unversioned` starts
 * runs without a version (as releases before versioning did: host.json's defaultVersion overridden by an
 * empty app setting), and `--label <text>` names the fixture `<workflow>+<text>…`.
 *
 * A run at an orchestration version (host.json `defaultVersion`, src/orchestrators/version.ts) is
 * written as `<workflow>@<version>.json`, an unversioned one as `<workflow>.json`; an existing fixture is
 * never overwritten (the script stops, naming it). So recording after a version bump adds fixtures next
 * to the old ones, which keep proving that runs started by the older release still replay. Delete a
 * fixture only when no run of its version can be in flight (docs/operations.md, "Orchestration versioning").
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { startDevHost, type DevHost } from '../devhost/host.js';
import { freeLoopbackPorts } from '../devhost/net.js';
import { startAzurite } from '../devhost/storage/azurite.js';
import { exportRunFromStore } from './lib/storeExport.js';

const root = resolve(__dirname, '../..');
const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);
const DEADLINE_MS = 180_000;
/** The size a fixture should stay under, so the repository and the test stay light. */
export const MAX_FIXTURE_BYTES = 200 * 1024;

/** Inputs beyond the samples: switches that make a run take the paths worth replaying. */
const EXTRA_INPUT: Record<string, Record<string, unknown>> = {
  'research-report': { requireApproval: true },
};

interface RunView {
  status: string;
  outcome: string | null;
  progress: { waitingFor?: { event: string } } | null;
}

async function call<T>(
  host: DevHost,
  method: string,
  path: string,
  key: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(`${host.url}/api/${path}`, {
    method,
    headers: {
      ...headers,
      'x-functions-key': key,
      'x-operator-id': 'recordReplayFixtures',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} /api/${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function runWorkflow(host: DevHost, name: string, callbackUrl: string | undefined): Promise<string> {
  const sample = JSON.parse(readFileSync(join(root, `scripts/samples/${name}.json`), 'utf8')) as object;
  const input = { ...sample, ...EXTRA_INPUT[name] };
  const headers: Record<string, string> = callbackUrl === undefined ? {} : { 'callback-url': callbackUrl };
  const { id } = await call<{ id: string }>(
    host,
    'POST',
    `workflows/${name}`,
    host.keys.functionKey,
    input,
    headers,
  );
  const deadline = Date.now() + DEADLINE_MS;
  let approved = false;
  for (;;) {
    const run = await call<RunView>(host, 'GET', `runs/${encodeURIComponent(id)}`, host.keys.functionKey);
    if (TERMINAL.has(run.status)) {
      if (run.status !== 'Completed' || run.outcome !== 'completed')
        throw new Error(`${name} run ${id} ended ${run.status} (${run.outcome ?? 'no outcome'})`);
      return id;
    }
    if (!approved && run.progress?.waitingFor) {
      await call(host, 'POST', `operator/runs/${encodeURIComponent(id)}/approve`, host.keys.masterKey, {
        comment: 'recorded for the replay fixtures',
      });
      approved = true;
    }
    if (Date.now() > deadline) throw new Error(`${name} run ${id} did not finish in ${DEADLINE_MS / 1000} s`);
    await sleep(200);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      only: { type: 'string' },
      app: { type: 'string' },
      label: { type: 'string' },
      callback: { type: 'boolean' },
      unversioned: { type: 'boolean' },
    },
  });
  const only = values.only?.split(',').map((name) => name.trim());
  if (values.label !== undefined && !/^[a-z0-9-]+$/.test(values.label))
    throw new Error(`--label must be lower-case letters, digits and hyphens: "${values.label}"`);
  // As the extension reads it, an empty defaultVersion means none: runs start unversioned, as the
  // releases before versioning started them (devhost/durable/README.md, "Orchestration versioning").
  if (values.unversioned === true)
    process.env.AzureFunctionsJobHost__extensions__durableTask__defaultVersion = '';
  const receiver = values.callback === true ? await startCallbackReceiver() : undefined;
  const out = resolve(values.out ?? join(root, 'test/fixtures/replay'));
  mkdirSync(out, { recursive: true });
  process.env.OFFLINE_MODEL = 'on';
  const workflowsDir = join(root, 'workflows');
  const files = readdirSync(workflowsDir)
    .filter((file) => /\.ya?ml$/.test(file))
    .filter((file) => only === undefined || only.includes(file.replace(/\.ya?ml$/, '')))
    .sort();
  if (only !== undefined && files.length !== only.length)
    throw new Error(`--only names a workflow that is not in workflows/: ${only.join(', ')}`);
  const stateDir = mkdtempSync(join(tmpdir(), 'replay-fixtures-'));
  const [blobPort = 0, queuePort = 0, tablePort = 0] = await freeLoopbackPorts(3);
  const azurite = await startAzurite({ blobPort, queuePort, tablePort, inMemory: true });
  process.env.AzureWebJobsStorage = azurite.connectionString;
  const runs: { file: string; id: string; version: string | null }[] = [];
  try {
    const host = await startDevHost({
      appDir: values.app === undefined ? root : resolve(values.app),
      port: 0,
      stateDir,
      azurite: 'off',
      log: (level, message) => {
        if (level === 'error' || level === 'critical') console.error(`  [host] ${message}`);
      },
    });
    try {
      for (const file of files) {
        const definition = parseYaml(readFileSync(join(workflowsDir, file), 'utf8')) as {
          name: string;
          version?: unknown;
        };
        const id = await runWorkflow(host, definition.name, receiver?.url);
        runs.push({
          file,
          id,
          version:
            typeof definition.version === 'string' || typeof definition.version === 'number'
              ? String(definition.version)
              : null,
        });
        console.log(`${definition.name}: run ${id} completed`);
      }
    } finally {
      await host.stop();
    }
    for (const run of runs) {
      const exported = await exportRunFromStore({
        stateDir,
        instanceId: run.id,
        workflowFile: join(workflowsDir, run.file),
        workflowVersion: run.version,
      });
      const version = orchestrationVersion(exported.instances[0]?.history.events ?? []);
      const base = run.file.replace(/\.ya?ml$/, '');
      const labelled = values.label === undefined ? base : `${base}+${values.label}`;
      const target = join(out, version === '' ? `${labelled}.json` : `${labelled}@${version}.json`);
      if (existsSync(target))
        throw new Error(
          `${target} exists; fixtures are never re-recorded (delete it only when no such run is in flight)`,
        );
      writeFileSync(target, `${JSON.stringify(exported, null, 1)}\n`);
      const bytes = statSync(target).size;
      const events = exported.instances.reduce((sum, instance) => sum + instance.history.events.length, 0);
      console.log(
        `wrote ${target}: ${exported.instances.length} instance(s), ${events} events, ${bytes} bytes`,
      );
      if (bytes > MAX_FIXTURE_BYTES)
        throw new Error(`${target} is ${bytes} bytes, over ${MAX_FIXTURE_BYTES}`);
    }
  } finally {
    await receiver?.stop();
    await azurite.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/**
 * `--callback`: a loopback receiver that answers every completion callback 200, for an app that lets
 * callbacks reach loopback (test/business/callback-app, `--app`); the main app's SSRF guard refuses it.
 */
async function startCallbackReceiver(): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200).end());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  process.env.CALLBACK_TEST_SECRET ??= 'replay-fixture-signing-key';
  return {
    url: `http://127.0.0.1:${port}/hook`,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** The orchestration version the run was started at (its ExecutionStarted event), '' when none. */
function orchestrationVersion(events: readonly unknown[]): string {
  const started = events.find((e) => (e as { EventType?: unknown }).EventType === 0) as
    { Version?: unknown } | undefined;
  return typeof started?.Version === 'string' ? started.Version.trim() : '';
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
