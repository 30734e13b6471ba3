import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createIgnoreMatcher, type IgnoreMatcher } from './funcignore.js';
import { ZipWriter, type ZipSummary } from './zip.js';

export interface PackOptions {
  /** The app root: where package.json, host.json and dist/ are. */
  readonly root: string;
  /** Where to write the zip. */
  readonly out: string;
  readonly log?: (line: string) => void;
}

export interface PackResult extends ZipSummary {
  readonly out: string;
  readonly files: readonly string[];
  readonly skippedSymlinks: number;
}

/** What the Functions host needs; the zip holds these and the production node_modules, minus `.funcignore`. */
const APP_FILES = ['host.json', 'package.json', 'package-lock.json'];
const APP_DIRS = ['dist/src', 'workflows'];

function stage(root: string, staging: string): void {
  const entry = join(root, 'dist/src/index.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first.`);
  for (const file of APP_FILES) cpSync(join(root, file), join(staging, file));
  for (const dir of APP_DIRS) {
    if (existsSync(join(root, dir))) cpSync(join(root, dir), join(staging, dir), { recursive: true });
  }
}

/** Production dependencies exactly as the lockfile pins them; no install scripts, no dev tools. */
function installProductionDependencies(staging: string, log: (line: string) => void): void {
  const args = ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'];
  log(`npm ${args.join(' ')}`);
  const result = spawnSync('npm', args, {
    cwd: staging,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`npm ci --omit=dev failed with exit code ${result.status}:\n${result.stderr}`);
  }
}

function collect(dir: string, prefix: string, ignored: IgnoreMatcher, files: string[]): number {
  let symlinks = 0;
  for (const name of readdirSync(dir).sort()) {
    const relative = prefix ? `${prefix}/${name}` : name;
    const stats = lstatSync(join(dir, name));
    if (stats.isSymbolicLink()) {
      symlinks++;
    } else if (stats.isDirectory()) {
      if (!ignored(relative, true)) symlinks += collect(join(dir, name), relative, ignored, files);
    } else if (stats.isFile() && !ignored(relative, false)) {
      files.push(relative);
    }
  }
  return symlinks;
}

/** Builds the deployment zip the Functions host runs: `main` resolves to dist/src/index.js inside it. */
export function pack({ root, out, log = () => {} }: PackOptions): PackResult {
  const staging = mkdtempSync(join(tmpdir(), 'durable-agents-pack-'));
  try {
    stage(root, staging);
    installProductionDependencies(staging, log);
    const funcignore = join(root, '.funcignore');
    const ignored = createIgnoreMatcher(existsSync(funcignore) ? readFileSync(funcignore, 'utf8') : '');
    const files: string[] = [];
    const skippedSymlinks = collect(staging, '', ignored, files);

    mkdirSync(dirname(out), { recursive: true });
    const zip = new ZipWriter(out);
    try {
      for (const file of files) {
        const mode = lstatSync(join(staging, file)).mode & 0o777;
        zip.add(file, readFileSync(join(staging, file)), mode);
      }
    } catch (error) {
      zip.abort();
      throw error;
    }
    return { ...zip.close(), out, files, skippedSymlinks };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
