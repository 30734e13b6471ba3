import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freeLoopbackPorts } from '../../devhost/net.js';
import { fixtureApp } from '../support/testHost.js';

const cli = path.resolve(__dirname, '../../dist/devhost/cli.js');
const INSTANCES = 20;
const expectedOutput = (n: number) => 2 * (2 * n + 20); // a = 2n; fan-out sum = 20; b = 2 * (a + 20)
const STEPS = ['a', 'f0', 'f1', 'f2', 'f3', 'f4', 'b'];

interface RunningHost {
  child: ChildProcess;
  output: string[];
}

async function startHost(port: number, stateDir: string, invocationLog: string): Promise<RunningHost> {
  const child = spawn(
    process.execPath,
    [
      cli,
      'start',
      '--app',
      fixtureApp('crash-app'),
      '--port',
      String(port),
      '--state',
      stateDir,
      '--no-azurite',
    ],
    { env: { ...process.env, CRASH_APP_INVOCATION_LOG: invocationLog }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`devhost exited early:\n${output.join('')}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/durabletask/instances/?top=1`);
      if (response.ok) return { child, output };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`devhost did not start:\n${output.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function kill(host: RunningHost): Promise<void> {
  return new Promise((resolve) => {
    if (host.child.exitCode !== null || host.child.signalCode !== null) return resolve();
    host.child.once('exit', () => resolve());
    host.child.kill('SIGKILL');
  });
}

describe('crash and restart on the same state dir', () => {
  const workDir = mkdtempSync(path.join(tmpdir(), 'devhost-crash-'));
  const stateDir = path.join(workDir, 'state');
  const invocationLog = path.join(workDir, 'invocations.log');
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('completes every instance correctly despite repeated SIGKILLs', async () => {
    const [port = 0] = await freeLoopbackPorts(1);
    let host = await startHost(port, stateDir, invocationLog);
    for (let i = 0; i < INSTANCES; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/api/start/crash-${i}`, {
        method: 'POST',
        body: String(i),
      });
      expect(response.status).toBe(202);
    }

    // Kill at several points of the runs: during the first activities, the timers and the fan-out.
    for (const delayMs of [150, 350, 600, 900]) {
      await new Promise((r) => setTimeout(r, delayMs));
      await kill(host);
      host = await startHost(port, stateDir, invocationLog);
    }

    const deadline = Date.now() + 30_000;
    let statuses: { instanceId: string; runtimeStatus: string; output: unknown }[] = [];
    for (;;) {
      const response = await fetch(`http://127.0.0.1:${port}/durabletask/instances/?top=100`);
      statuses = (await response.json()) as typeof statuses;
      if (statuses.length === INSTANCES && statuses.every((s) => s.runtimeStatus === 'Completed')) break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await kill(host);

    expect(statuses).toHaveLength(INSTANCES);
    for (const status of statuses) {
      const n = Number(status.instanceId.replace('crash-', ''));
      expect(status, host.output.join('')).toMatchObject({
        runtimeStatus: 'Completed',
        output: expectedOutput(n),
      });
    }
    expect(existsSync(invocationLog)).toBe(true);
    const invocations = readFileSync(invocationLog, 'utf8').trim().split('\n');
    for (let i = 0; i < INSTANCES; i++) {
      for (const step of STEPS) {
        expect(invocations.filter((line) => line === `crash-${i} ${step}`).length).toBeGreaterThanOrEqual(1);
      }
    }
  });
});
