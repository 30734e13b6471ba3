import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { bubblewrapArgs, bubblewrapSpawnOptions, type SandboxUser } from './bubblewrapCommand.js';

/** Whether bwrap can start the interpreter here, and if not, why. */
export type SandboxProbe = { ok: true } | { ok: false; reason: string };

/** What a probe starts: the bubblewrap binary, the interpreter inside, and the user bwrap runs as. */
export interface ProbeTarget {
  bwrap: string;
  python: string;
  runAs: SandboxUser;
}

function precheck(python: string): SandboxProbe | undefined {
  if (!python.startsWith('/usr/')) {
    return { ok: false, reason: `the interpreter ${python} is not under /usr, the only tree bound` };
  }
  if (!existsSync(python)) return { ok: false, reason: `${python} does not exist` };
  return undefined;
}

function probeArgs(python: string): string[] {
  return [...bubblewrapArgs(undefined, 4 * 2 ** 20), '--', python, '-I', '-S', '-c', 'print(6*7)'];
}

/** Runs `print(6*7)` in a bare sandbox, blocking (for startup checks and test guards). */
export function probeBubblewrapSync({ bwrap, python, runAs }: ProbeTarget): SandboxProbe {
  const early = precheck(python);
  if (early) return early;
  const result = spawnSync(bwrap, probeArgs(python), {
    ...bubblewrapSpawnOptions(['ignore', 'pipe', 'pipe'], runAs),
    timeout: 10_000,
  });
  if (result.error)
    return { ok: false, reason: `could not start bubblewrap (${bwrap}): ${result.error.message}` };
  if (result.status === 0 && result.stdout.toString().trim() === '42') return { ok: true };
  return {
    ok: false,
    reason: `bubblewrap test run failed (exit ${result.status}): ${result.stderr.toString().trim().slice(0, 500)}`,
  };
}

/** The same check as `probeBubblewrapSync`, without blocking. */
export async function probeBubblewrap({ bwrap, python, runAs }: ProbeTarget): Promise<SandboxProbe> {
  const early = precheck(python);
  if (early) return early;
  const args = probeArgs(python);
  return new Promise<SandboxProbe>((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(bwrap, args, bubblewrapSpawnOptions(['ignore', 'pipe', 'pipe'], runAs));
    } catch (error) {
      resolve({ ok: false, reason: `could not start bubblewrap: ${(error as Error).message}` });
      return;
    }
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `could not start bubblewrap (${bwrap}): ${error.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && out.trim() === '42') resolve({ ok: true });
      else
        resolve({
          ok: false,
          reason: `bubblewrap test run failed (exit ${code}): ${err.trim().slice(0, 500)}`,
        });
    });
  });
}
