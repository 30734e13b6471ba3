import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockStateDir, StateDirInUseError } from '../../devhost/stateLock.js';
import { fixtureApp } from '../support/testHost.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'devhost-lock-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A pid that is certainly not running: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('state directory lock', () => {
  it('lets one holder in, refuses a second naming the directory and the pid, and frees on release', () => {
    const dir = tempDir();
    const first = lockStateDir(dir);
    expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    let refused: unknown;
    try {
      lockStateDir(dir);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(StateDirInUseError);
    expect((refused as Error).message).toMatch(
      new RegExp(
        `^The state directory ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another host \\(pid ${process.pid}, started .+\\)\\. Stop that host, or give this one its own directory with --state <dir>`,
      ),
    );
    first.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    lockStateDir(dir).release();
  });

  it('takes over a lock whose process is gone (a killed host)', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), startedAt: 'then' }));
    const lock = lockStateDir(dir);
    expect(JSON.parse(readFileSync(lock.file, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('makes `devhost start` exit with the message before starting anything', () => {
    const dir = tempDir();
    const held = lockStateDir(dir);
    const cli = path.resolve(__dirname, '../../dist/devhost/cli.js');
    const run = spawnSync(
      process.execPath,
      [cli, 'start', '--app', fixtureApp('conformance-app'), '--state', dir, '--port', '0', '--no-azurite'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    held.release();
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `devhost: The state directory ${dir} is in use by another host (pid ${process.pid}`,
    );
  });
});
