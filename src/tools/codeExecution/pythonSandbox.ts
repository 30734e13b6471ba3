import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  OutputBudget,
  SAFE_FILE_NAME,
  emptyOutcome,
  failure,
  type CodeSandbox,
  type EffectiveLimits,
  type SandboxOutcome,
  type SandboxOutputFile,
  type SandboxRequest,
} from './types.js';

/**
 * Runs first inside the sandbox (as `python3 -I -S boot.py <config>`): checks syntax, runs the
 * user's code in a child process under rlimits, kills anything the code left behind, then streams
 * `out/` to the host over fd 3 as JSON lines. The code's child never holds fd 3.
 */
const BOOT_PY = String.raw`
import json, os, signal, subprocess, sys, base64, resource
cfg = json.loads(sys.argv[1])
def send(obj):
    data = memoryview((json.dumps(obj) + "\n").encode())
    while data:
        data = data[os.write(3, data):]
try:
    import ctypes
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE=0: the code cannot open /proc/<us>/fd/3
except Exception:
    pass
try:
    with open("/sandbox/main.py", encoding="utf-8") as f:
        compile(f.read(), "main.py", "exec", dont_inherit=True)
except (SyntaxError, ValueError) as e:
    import traceback
    send({"t": "status", "syntax": "".join(traceback.format_exception_only(type(e), e)).strip()})
    sys.exit(0)
def limits():
    cpu = cfg["cpuSeconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (cfg["addressSpaceBytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (cfg["maxProcesses"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["maxFileBytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
child = subprocess.Popen(
    [sys.executable, "-I", "-u", "/sandbox/runner.py"],
    stdin=subprocess.DEVNULL, close_fds=True, preexec_fn=limits, cwd="/work",
)
code = child.wait()
try:
    os.kill(-1, signal.SIGKILL)  # everything the code started, in this PID namespace, except us
except (ProcessLookupError, PermissionError):
    pass
runner = None
try:
    with open("/tmp/.run_code_status.json", "rb") as f:
        runner = json.loads(f.read(cfg["maxStatusBytes"]))
except Exception:
    pass
count, total, truncated = 0, 0, False
for name in sorted(os.listdir("/work/out")) if os.path.isdir("/work/out") else []:
    p = os.path.join("/work/out", name)
    try:
        st = os.lstat(p)
    except OSError:
        continue
    if not os.path.isfile(p) or os.path.islink(p):
        continue
    if count >= cfg["maxArtifacts"] or total + st.st_size > cfg["maxArtifactBytes"]:
        truncated = True
        continue
    with open(p, "rb") as f:
        data = f.read(cfg["maxArtifactBytes"] - total + 1)
    if total + len(data) > cfg["maxArtifactBytes"]:
        truncated = True
        continue
    count, total = count + 1, total + len(data)
    send({"t": "file", "name": name, "b64": base64.b64encode(data).decode()})
send({"t": "status", "exit": code, "runner": runner, "filesTruncated": truncated})
`;

/** The code's own process: runs main.py like a notebook cell (the last expression is the result). */
const RUNNER_PY = String.raw`
import ast, json, sys, traceback
STATUS = "/tmp/.run_code_status.json"
def report(obj):
    with open(STATUS, "w") as f:
        json.dump(obj, f)
with open("/sandbox/main.py", encoding="utf-8") as f:
    source = f.read()
tree = ast.parse(source, "main.py")
last = None
if tree.body and isinstance(tree.body[-1], ast.Expr):
    last = ast.Expression(tree.body.pop().value)
scope = {"__name__": "__main__", "__file__": "main.py", "__builtins__": __builtins__}
sys.argv = ["main.py"]
try:
    exec(compile(tree, "main.py", "exec"), scope)
    value = eval(compile(last, "main.py", "eval"), scope) if last is not None else None
    if value is None:
        report({"ok": True})
    else:
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            text = json.dumps(repr(value))
        report({"ok": True, "result": text})
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    report({"ok": code == 0, "error": "SystemExit", "message": "exit status %d" % code})
    sys.stdout.flush()
    raise
except MemoryError:
    scope.clear()
    report({"ok": False, "error": "MemoryError", "message": "out of memory"})
    sys.stderr.write("MemoryError\n")
    sys.exit(1)
except BaseException as e:
    traceback.print_exception(type(e), e, e.__traceback__.tb_next if e.__traceback__ else None)
    report({"ok": False, "error": type(e).__name__, "message": str(e)[:2000]})
    sys.exit(1)
`;

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

type Probe = { ok: true } | { ok: false; reason: string };

interface Frame {
  t: 'file' | 'status';
  name?: string;
  b64?: string;
  syntax?: string;
  exit?: number;
  runner?: { ok: boolean; result?: string; error?: string; message?: string } | null;
  filesTruncated?: boolean;
}

/** Python in a bubblewrap sandbox: no network, read-only /usr, tmpfs work dir, rlimits. */
export class PythonSandbox implements CodeSandbox {
  readonly language = 'python' as const;
  readonly kind = 'bubblewrap';
  private readonly bwrap: string;
  private readonly python: string;
  private readonly runAs: { uid: number; gid: number } | undefined;
  private readonly tmpRoot: string;
  private readonly allowanceMs: number;
  private readonly maxProcesses: number;
  private probed: Promise<Probe> | undefined;

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
  probe(): Promise<Probe> {
    this.probed ??= this.runProbe();
    return this.probed;
  }

  /** The same check, blocking (for startup checks and test guards). */
  probeSync(): Probe {
    const precheck = this.precheck();
    if (precheck) return precheck;
    const result = spawnSync(this.bwrap, this.probeArgs(), {
      ...this.spawnOptions(['ignore', 'pipe', 'pipe']),
      timeout: 10_000,
    });
    if (result.error)
      return { ok: false, reason: `could not start bubblewrap (${this.bwrap}): ${result.error.message}` };
    if (result.status === 0 && result.stdout.toString().trim() === '42') return { ok: true };
    return {
      ok: false,
      reason: `bubblewrap test run failed (exit ${result.status}): ${result.stderr.toString().trim().slice(0, 500)}`,
    };
  }

  private precheck(): Probe | undefined {
    if (!this.python.startsWith('/usr/')) {
      return { ok: false, reason: `the interpreter ${this.python} is not under /usr, the only tree bound` };
    }
    if (!existsSync(this.python)) return { ok: false, reason: `${this.python} does not exist` };
    return undefined;
  }

  private probeArgs(): string[] {
    return [...this.bwrapArgs(undefined, 4 * 2 ** 20), '--', this.python, '-I', '-S', '-c', 'print(6*7)'];
  }

  private async runProbe(): Promise<Probe> {
    const precheck = this.precheck();
    if (precheck) return precheck;
    const args = this.probeArgs();
    return new Promise<Probe>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(this.bwrap, args, this.spawnOptions(['ignore', 'pipe', 'pipe']));
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
        resolve({ ok: false, reason: `could not start bubblewrap (${this.bwrap}): ${error.message}` });
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

  private spawnOptions(stdio: ('ignore' | 'pipe')[]) {
    return {
      stdio,
      detached: true, // own process group, so a timeout can kill the whole tree
      env: { PATH: '/usr/bin:/bin' }, // bwrap's own environment is visible as /proc/1/environ inside
      ...(this.runAs ?? {}),
    };
  }

  /** The bubblewrap flag set (see README "Python: bubblewrap"). */
  bwrapArgs(dir: string | undefined, workBytes: number): string[] {
    const args = [
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
      '--cap-drop',
      'ALL',
      '--hostname',
      'sandbox',
      '--clearenv',
      '--setenv',
      'PATH',
      '/usr/bin:/bin',
      '--setenv',
      'HOME',
      '/work',
      '--setenv',
      'TMPDIR',
      '/tmp',
      '--setenv',
      'LANG',
      'C.UTF-8',
      '--setenv',
      'PYTHONDONTWRITEBYTECODE',
      '1',
      '--setenv',
      'MPLBACKEND',
      'Agg',
      '--ro-bind',
      '/usr',
      '/usr',
    ];
    for (const top of ['/bin', '/sbin', '/lib', '/lib64', '/lib32']) {
      if (!existsSync(top)) continue;
      const st = lstatSync(top);
      if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(top), top);
      else args.push('--ro-bind', top, top);
    }
    args.push('--proc', '/proc', '--dev', '/dev', '--size', String(4 * 2 ** 20), '--tmpfs', '/dev/shm');
    args.push('--size', String(16 * 2 ** 20), '--tmpfs', '/tmp');
    args.push('--size', String(workBytes), '--tmpfs', '/work');
    if (dir) {
      args.push(
        '--ro-bind',
        dir,
        '/sandbox',
        '--ro-bind',
        path.join(dir, 'in'),
        '/work/in',
        '--dir',
        '/work/out',
      );
    }
    args.push('--remount-ro', '/dev', '--remount-ro', '/', '--chdir', '/work');
    return args;
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

  private execute(dir: string, limits: EffectiveLimits, elapsed: () => number): Promise<SandboxOutcome> {
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
    const child = spawn(this.bwrap, args, this.spawnOptions(['ignore', 'pipe', 'pipe', 'pipe']));
    const budget = new OutputBudget(limits.maxOutputBytes);
    const frameCap = Math.ceil(limits.maxArtifactBytes * 1.4) + config.maxStatusBytes * 2 + 64 * 1024;
    const frameChunks: Buffer[] = [];
    let frameBytes = 0;
    let stopReason: 'timeout' | 'output' | 'frames' | undefined;
    const kill = (reason: typeof stopReason) => {
      stopReason ??= reason;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => kill('timeout'), limits.timeoutMs + this.allowanceMs);
    child.stdout?.on('data', (d: Buffer) => {
      if (!budget.push('stdout', d)) kill('output');
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (!budget.push('stderr', d)) kill('output');
    });
    const frames = child.stdio[3] as NodeJS.ReadableStream | null;
    frames?.on('data', (d: Buffer) => {
      frameBytes += d.length;
      if (frameBytes > frameCap) kill('frames');
      else frameChunks.push(d);
    });

    return new Promise<SandboxOutcome>((resolve) => {
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve(
          failure('sandbox_unavailable', `Could not start the sandbox: ${error.message}`, {
            durationMs: elapsed(),
          }),
        );
      });
      child.on('close', (exitCode, signal) => {
        clearTimeout(timer);
        const base = {
          stdout: budget.text('stdout'),
          stderr: budget.text('stderr'),
          truncated: budget.overflowed,
          durationMs: elapsed(),
        };
        if (stopReason === 'timeout') {
          resolve(
            failure(
              'timeout',
              `Execution exceeded the ${limits.timeoutMs} ms time limit; the sandbox was killed.`,
              base,
            ),
          );
          return;
        }
        if (stopReason === 'output' || stopReason === 'frames') {
          const what =
            stopReason === 'output'
              ? `Output exceeded ${limits.maxOutputBytes} bytes`
              : 'Files exceeded their size limit';
          resolve(
            failure('output_too_large', `${what}; the sandbox was killed.`, { ...base, truncated: true }),
          );
          return;
        }
        const files: SandboxOutputFile[] = [];
        let status: Frame | undefined;
        for (const line of Buffer.concat(frameChunks).toString('utf8').split('\n')) {
          if (!line) continue;
          let frame: Frame;
          try {
            frame = JSON.parse(line) as Frame;
          } catch {
            continue;
          }
          if (
            frame.t === 'file' &&
            frame.name &&
            frame.b64 !== undefined &&
            SAFE_FILE_NAME.test(frame.name)
          ) {
            files.push({ name: frame.name, bytes: Buffer.from(frame.b64, 'base64') });
          } else if (frame.t === 'status') status = frame;
        }
        resolve(
          classify(status, exitCode, signal, limits, {
            ...base,
            files,
            truncated: base.truncated || !!status?.filesTruncated,
          }),
        );
      });
    });
  }
}

function classify(
  status: Frame | undefined,
  exitCode: number | null,
  signal: NodeJS.Signals | null,
  limits: EffectiveLimits,
  base: Pick<SandboxOutcome, 'stdout' | 'stderr' | 'files' | 'truncated' | 'durationMs'>,
): SandboxOutcome {
  if (status?.syntax) return failure('syntax_error', status.syntax, base);
  if (!status) {
    return failure(
      'runtime_error',
      `The sandbox exited without a result (exit ${exitCode ?? 'none'}${signal ? `, signal ${signal}` : ''}).`,
      base,
    );
  }
  const code = status.exit ?? 0;
  const runner = status.runner ?? undefined;
  // A negative exit is the signal that ended the code: SIGXCPU (24) or SIGKILL (9) after RLIMIT_CPU.
  if (code === -24 || (code === -9 && !runner)) {
    return failure(
      'timeout',
      `Execution exceeded the ${limits.timeoutMs} ms CPU time limit and was stopped.`,
      base,
    );
  }
  if (runner?.error === 'MemoryError' || (!runner && /MemoryError/.test(base.stderr))) {
    return failure(
      'out_of_memory',
      `Out of memory: the ${limits.memoryMb} MB address-space limit was reached.`,
      base,
    );
  }
  if (runner && !runner.ok) {
    const message =
      runner.error === 'SystemExit'
        ? `The code exited with ${runner.message ?? 'an error'}.`
        : `${runner.error}: ${runner.message ?? ''}`;
    return failure('runtime_error', message, base);
  }
  if (!runner) {
    return failure(
      'runtime_error',
      `The code ended abnormally (exit ${code < 0 ? `signal ${-code}` : code}).`,
      base,
    );
  }
  if (runner.result === undefined) return emptyOutcome({ ...base, hasResult: false });
  if (
    Buffer.byteLength(runner.result) + Buffer.byteLength(base.stdout) + Buffer.byteLength(base.stderr) >
    limits.maxOutputBytes
  ) {
    return failure(
      'output_too_large',
      `The result value exceeded the ${limits.maxOutputBytes}-byte output limit.`,
      {
        ...base,
        truncated: true,
      },
    );
  }
  return emptyOutcome({ ...base, hasResult: true, result: JSON.parse(runner.result) as unknown });
}

export function createPythonSandbox(options?: PythonSandboxOptions): PythonSandbox {
  return new PythonSandbox(options);
}
