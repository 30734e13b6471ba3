import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bubblewrapArgs, bubblewrapSpawnOptions, type SandboxUser } from './bubblewrapCommand.js';
import {
  probeBubblewrap,
  probeBubblewrapSync,
  type ProbeTarget,
  type SandboxProbe,
} from './bubblewrapProbe.js';
import { runCappedProcess } from './bubblewrapProcess.js';
import { BOOT_PY, RUNNER_PY } from './pythonBootScripts.js';
import { pythonOutcome } from './pythonOutcome.js';
import {
  SAFE_FILE_NAME,
  failure,
  type CodeSandbox,
  type EffectiveLimits,
  type SandboxOutcome,
  type SandboxRequest,
} from './types.js';

export interface PythonSandboxOptions {
  /** bubblewrap binary. Default `bwrap` on PATH. */
  bwrapPath?: string;
  /** Interpreter inside the sandbox; must live under /usr (only /usr is bound). Default /usr/bin/python3. */
  pythonPath?: string;
  /** Host uid/gid bwrap runs as when this process is root (RLIMIT_NPROC does not bind uid 0). Default 65534. */
  sandboxUid?: number;
  sandboxGid?: number;
  /** Where per-call directories are created (must be traversable by sandboxUid). Default os.tmpdir(). */
  tmpRoot?: string;
  /** Wall-clock allowance on top of timeoutMs for bwrap and interpreter startup. Default 1500 ms. */
  startupAllowanceMs?: number;
  /** RLIMIT_NPROC for the code (counted per sandbox: each sandbox has its own user namespace). Default 32. */
  maxProcesses?: number;
}

/**
 * Python in a bubblewrap sandbox: no network, read-only /usr, tmpfs work dir, rlimits.
 * The flag set is `bubblewrapCommand.ts`, the scripts run inside are `pythonBootScripts.ts`, the
 * capped process is `bubblewrapProcess.ts`, and `pythonOutcome.ts` classifies what came back.
 */
export class PythonSandbox implements CodeSandbox {
  readonly language = 'python' as const;
  readonly kind = 'bubblewrap';
  private readonly bwrap: string;
  private readonly python: string;
  private readonly runAs: SandboxUser;
  private readonly tmpRoot: string;
  private readonly allowanceMs: number;
  private readonly maxProcesses: number;
  private probed: Promise<SandboxProbe> | undefined;

  constructor(options: PythonSandboxOptions = {}) {
    this.bwrap = options.bwrapPath ?? 'bwrap';
    this.python = options.pythonPath ?? '/usr/bin/python3';
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    this.runAs = root ? { uid: options.sandboxUid ?? 65534, gid: options.sandboxGid ?? 65534 } : undefined;
    this.tmpRoot = options.tmpRoot ?? tmpdir();
    this.allowanceMs = options.startupAllowanceMs ?? 1500;
    this.maxProcesses = options.maxProcesses ?? 32;
  }

  /** Checks once that bwrap can start the interpreter here; the answer is cached. */
  probe(): Promise<SandboxProbe> {
    this.probed ??= probeBubblewrap(this.probeTarget());
    return this.probed;
  }

  /** The same check, blocking (for startup checks and test guards). */
  probeSync(): SandboxProbe {
    return probeBubblewrapSync(this.probeTarget());
  }

  private probeTarget(): ProbeTarget {
    return { bwrap: this.bwrap, python: this.python, runAs: this.runAs };
  }

  /** The bubblewrap flag set (see README "Python: bubblewrap"). */
  bwrapArgs(dir: string | undefined, workBytes: number): string[] {
    return bubblewrapArgs(dir, workBytes);
  }

  async run(request: SandboxRequest): Promise<SandboxOutcome> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const probe = await this.probe();
    if (!probe.ok) {
      return failure(
        'sandbox_unavailable',
        `Python is unavailable: the sandbox cannot start here (${probe.reason}). Python code is never run unsandboxed.`,
        { durationMs: elapsed() },
      );
    }
    for (const f of request.files) {
      if (!SAFE_FILE_NAME.test(f.name)) {
        return failure('runtime_error', `Input file name ${JSON.stringify(f.name)} is not allowed.`, {
          durationMs: elapsed(),
        });
      }
    }
    const dir = await mkdtemp(path.join(this.tmpRoot, 'run-code-'));
    try {
      await this.prepare(dir, request);
      return await this.execute(dir, request.limits, elapsed);
    } finally {
      await chmod(path.join(dir, 'in'), 0o755).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async prepare(dir: string, request: SandboxRequest): Promise<void> {
    await chmod(dir, 0o755);
    await mkdir(path.join(dir, 'in'), { mode: 0o755 });
    const write = async (file: string, data: string | Buffer) => {
      await writeFile(file, data, { mode: 0o444 });
    };
    await write(path.join(dir, 'boot.py'), BOOT_PY);
    await write(path.join(dir, 'runner.py'), RUNNER_PY);
    await write(path.join(dir, 'main.py'), request.code);
    for (const f of request.files) await write(path.join(dir, 'in', f.name), f.bytes);
    await chmod(path.join(dir, 'in'), 0o555);
  }

  private async execute(
    dir: string,
    limits: EffectiveLimits,
    elapsed: () => number,
  ): Promise<SandboxOutcome> {
    const config = {
      cpuSeconds: Math.max(1, Math.ceil(limits.timeoutMs / 1000)),
      addressSpaceBytes: limits.memoryMb * 2 ** 20,
      maxProcesses: this.maxProcesses,
      maxFileBytes: Math.max(limits.maxArtifactBytes, 1 * 2 ** 20),
      maxArtifacts: limits.maxArtifacts,
      maxArtifactBytes: limits.maxArtifactBytes,
      maxStatusBytes: limits.maxOutputBytes + 4096,
    };
    const workBytes = Math.max(16 * 2 ** 20, 2 * limits.maxArtifactBytes);
    const args = [
      ...this.bwrapArgs(dir, workBytes),
      '--',
      this.python,
      '-I',
      '-S',
      '/sandbox/boot.py',
      JSON.stringify(config),
    ];
    const result = await runCappedProcess(
      this.bwrap,
      args,
      bubblewrapSpawnOptions(['ignore', 'pipe', 'pipe', 'pipe'], this.runAs),
      {
        wallClockMs: limits.timeoutMs + this.allowanceMs,
        maxOutputBytes: limits.maxOutputBytes,
        maxFrameBytes: Math.ceil(limits.maxArtifactBytes * 1.4) + config.maxStatusBytes * 2 + 64 * 1024,
      },
    );
    return pythonOutcome(result, limits, elapsed());
  }
}

export function createPythonSandbox(options?: PythonSandboxOptions): PythonSandbox {
  return new PythonSandbox(options);
}
