// npm run bench:peers: installs the peer engines into bench/peers/node_modules on first run (or
// when bench/peers/package-lock.json changed), compiles bench/peers with the app's TypeScript and
// runs it. The app's own `npm ci` never installs the peers.
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const peersDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(peersDir, '../..');
const stampFile = path.join(peersDir, 'node_modules', '.bench-peers-lock.sha256');
const lockHash = createHash('sha256')
  .update(readFileSync(path.join(peersDir, 'package-lock.json')))
  .digest('hex');

function run(command, args, what) {
  const result = spawnSync(command, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    process.stderr.write(`bench:peers: ${what} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
}

if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== lockHash) {
  process.stdout.write(
    'bench:peers: installing the peer engines into bench/peers/node_modules (first run; about 400 MB, a few minutes)…\n',
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(
    npm,
    ['ci', '--prefix', peersDir, '--no-audit', '--no-fund', '--foreground-scripts'],
    'npm ci --prefix bench/peers',
  );
  writeFileSync(stampFile, lockHash);
}

process.stdout.write('bench:peers: compiling bench/peers…\n');
run(
  process.execPath,
  [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', peersDir],
  'tsc -p bench/peers',
);
run(process.execPath, [path.join(peersDir, 'dist/run.js'), ...process.argv.slice(2)], 'the benchmark');
