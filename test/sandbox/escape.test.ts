/**
 * Escape suite for run_code: each attempt must be contained (typed error or an empty/denied
 * result), must not leak the canary secret, and must leave the host healthy and responsive.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JavaScriptSandbox } from '../../src/tools/codeExecution/javascriptSandbox.js';
import { PythonSandbox } from '../../src/tools/codeExecution/pythonSandbox.js';
import type { EffectiveLimits, SandboxOutcome } from '../../src/tools/codeExecution/types.js';

const CANARY = `canary-${randomBytes(12).toString('hex')}`;
process.env.RUN_CODE_ESCAPE_CANARY = CANARY;

const limits: EffectiveLimits = {
  timeoutMs: 1_500,
  memoryMb: 64,
  maxOutputBytes: 16 * 1024,
  maxArtifactBytes: 256 * 1024,
  maxArtifacts: 5,
};
const REPO_FILE = path.resolve(__dirname, '../../package.json');

const js = new JavaScriptSandbox({ poolSize: 2 });
const py = new PythonSandbox();
const pythonProbe = py.probeSync();
const pythonReady = pythonProbe.ok;
if (!pythonProbe.ok) {
  console.warn(
    `Skipping the Python escape attempts: ${pythonProbe.reason} (npm run setup installs bubblewrap and python3)`,
  );
}
const outcomes: SandboxOutcome[] = [];

let listener: Server;
let connections = 0;
let port = 0;

beforeAll(async () => {
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as AddressInfo).port;
});

afterAll(async () => {
  await js.close();
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  delete process.env.RUN_CODE_ESCAPE_CANARY;
});

/** Everything the code produced, as one string, to search for leaks. */
function everything(out: SandboxOutcome): string {
  return [
    out.stdout,
    out.stderr,
    out.errorMessage ?? '',
    JSON.stringify(out.result ?? null),
    ...out.files.map((f) => f.bytes.toString('latin1')),
  ].join('\n');
}

async function runJs(code: string, extra: Partial<EffectiveLimits> = {}): Promise<SandboxOutcome> {
  const out = await js.run({ code, files: [], limits: { ...limits, ...extra } });
  outcomes.push(out);
  return out;
}

async function runPy(code: string, extra: Partial<EffectiveLimits> = {}): Promise<SandboxOutcome> {
  const out = await py.run({ code, files: [], limits: { ...limits, ...extra } });
  outcomes.push(out);
  return out;
}

/** The host is healthy when a timer fires on time and both sandboxes still answer. */
async function expectHostHealthy(): Promise<void> {
  const began = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(performance.now() - began).toBeLessThan(500);
  expect((await js.run({ code: '6 * 7', files: [], limits })).result).toBe(42);
  if (pythonReady) expect((await py.run({ code: '6 * 7', files: [], limits })).result).toBe(42);
}

/** Processes on this host whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

afterEach(async () => {
  for (const out of outcomes.splice(0)) expect(everything(out)).not.toContain(CANARY);
  await expectHostHealthy();
});

describe('JavaScript escape attempts (QuickJS)', () => {
  it('1. sees no process, require, module, Deno or fetch', async () => {
    const out = await runJs(
      '[typeof process, typeof require, typeof module, typeof Deno, typeof fetch, typeof Buffer, typeof setTimeout]',
    );
    expect(out.result).toEqual(Array(7).fill('undefined'));
  });

  it('2. cannot reach host objects through constructors or host functions', async () => {
    const out = await runJs(`[
      this.constructor.constructor("return typeof process")(),
      console.log.constructor("return typeof require")(),
      Object.getOwnPropertyNames(console.log).join(","),
      Object.getOwnPropertyNames(globalThis).filter((k) => /^(emit|write|std|os|scriptArgs|print)$/.test(k)).join(",")
    ]`);
    expect(out.result).toEqual(['undefined', 'undefined', 'length,name', '']);
  });

  it('3. cannot import modules (no loader): import("fs") rejects', async () => {
    const out = await runJs('import("fs").then((m) => Object.keys(m))');
    expect(out).toMatchObject({ ok: false, errorKind: 'runtime_error' });
  });

  it('4. an infinite loop times out while host timers keep firing on time', async () => {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    const began = performance.now();
    const out = await runJs('for (;;) {}', { timeoutMs: 800 });
    clearInterval(interval);
    expect(out.errorKind).toBe('timeout');
    expect(ticks).toBeGreaterThan(((performance.now() - began) / 10) * 0.5);
  });

  it('5. a loop inside a native builtin (no interrupt checks) is hard-killed by the watchdog', async () => {
    const out = await runJs('const a = []; for (;;) a.push(new Array(100000).fill(1.5))', { timeoutMs: 500 });
    expect(['timeout', 'out_of_memory']).toContain(out.errorKind);
  });

  it('6. object and ArrayBuffer memory bombs hit the memory limit', async () => {
    const rssBefore = process.memoryUsage().rss;
    expect((await runJs('const a = []; for (let i = 0; ; i++) a.push({ i, s: "x" + i })')).errorKind).toBe(
      'out_of_memory',
    );
    expect((await runJs('const a = []; for (;;) a.push(new ArrayBuffer(1 << 20))')).errorKind).toBe(
      'out_of_memory',
    );
    expect((process.memoryUsage().rss - rssBefore) / 2 ** 20).toBeLessThan(400);
  });

  it('7. huge output is cut at the cap', async () => {
    const out = await runJs('for (;;) console.log("A".repeat(1000))');
    expect(out).toMatchObject({ errorKind: 'output_too_large', truncated: true });
    expect(Buffer.byteLength(out.stdout)).toBeLessThanOrEqual(limits.maxOutputBytes);
  });

  it('8. cannot read environment variables (the canary never appears)', async () => {
    const out = await runJs(
      `JSON.stringify(Object.getOwnPropertyNames(globalThis).map((k) => { try { return [k, String(globalThis[k])]; } catch { return [k]; } }))`,
    );
    expect(out.ok).toBe(true);
    expect(everything(out)).not.toContain(CANARY);
  });

  it('9. prototype pollution stays inside the sandbox', async () => {
    await runJs('Object.prototype.polluted = "yes"; Array.prototype.push = null; 1');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await runJs('[({}).polluted, typeof [].push]')).result).toEqual([null, 'function']);
  });

  it('10. writeFile cannot write outside the artifact set', async () => {
    const target = `/tmp/run-code-escape-${randomBytes(4).toString('hex')}`;
    const out = await runJs(`writeFile(${JSON.stringify(target)}, "x")`);
    expect(out).toMatchObject({ ok: false, errorKind: 'runtime_error' });
    expect(existsSync(target)).toBe(false);
  });
});

describe.skipIf(!pythonReady)('Python escape attempts (bubblewrap)', () => {
  it('11. cannot read /etc/passwd or the repository', async () => {
    const out = await runPy(`
import os
res = {}
for p in ["/etc/passwd", ${JSON.stringify(REPO_FILE)}, "/root/.bashrc", "/work/main/package.json"]:
    try:
        res[p] = open(p).read()[:50]
    except OSError as e:
        res[p] = type(e).__name__
res`);
    const values = Object.values(out.result as Record<string, string>);
    expect(values.length).toBeGreaterThanOrEqual(3);
    expect(new Set(values)).toEqual(new Set(['FileNotFoundError']));
  });

  it('12. sees only a minimal environment in os.environ and /proc/*/environ', async () => {
    const out = await runPy(`
import os
envs = {}
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            envs[pid] = open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace")
        except OSError as e:
            envs[pid] = type(e).__name__
{"environ": dict(os.environ), "proc": envs}`);
    expect(out.ok).toBe(true);
    const result = out.result as { environ: Record<string, string> };
    expect(Object.keys(result.environ).sort()).toEqual([
      'HOME',
      'LANG',
      'MPLBACKEND',
      'PATH',
      'PWD',
      'PYTHONDONTWRITEBYTECODE',
      'TMPDIR',
    ]);
    expect(everything(out)).not.toContain(CANARY);
  });

  it('13. cannot connect to a TCP server on the host loopback', async () => {
    const out = await runPy(`
import socket
s = socket.socket()
s.settimeout(1)
try:
    s.connect(("127.0.0.1", ${port}))
    r = "connected"
except OSError as e:
    r = type(e).__name__
r`);
    expect(out.result).toMatch(/ConnectionRefusedError|OSError/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connections).toBe(0);
  });

  it('14. cannot reach the cloud metadata endpoint or resolve names', async () => {
    const out = await runPy(`
import socket
res = []
for target in [("169.254.169.254", 80), ("10.0.0.1", 443)]:
    s = socket.socket(); s.settimeout(1)
    try:
        s.connect(target); res.append("connected")
    except OSError as e:
        res.append(type(e).__name__)
try:
    socket.getaddrinfo("example.com", 80); res.append("resolved")
except OSError as e:
    res.append(type(e).__name__)
res`);
    expect(out.result as string[]).not.toContain('connected');
    expect(out.result as string[]).not.toContain('resolved');
  });

  it('15. a fork bomb is contained by RLIMIT_NPROC and leaves nothing behind', async () => {
    const marker = `bomb-${randomBytes(4).toString('hex')}`;
    const out = await runPy(`
import os, subprocess, time
procs = []
try:
    for i in range(500):
        procs.append(subprocess.Popen(["/usr/bin/sleep", "30", "${marker}"]))
except OSError as e:
    print("stopped at", len(procs), type(e).__name__)
len(procs)`);
    expect(out.ok).toBe(true);
    expect(out.result as number).toBeLessThan(40);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(processesWith(marker)).toEqual([]);
  });

  it('16. a classic os.fork() bomb ends in a typed error and the host recovers', async () => {
    const out = await runPy('import os\nwhile True:\n    os.fork()', { timeoutMs: 1_000 });
    expect(out.ok).toBe(false);
    expect(['runtime_error', 'timeout', 'output_too_large']).toContain(out.errorKind);
  });

  it('17. infinite CPU loops and sleeping forever both time out', async () => {
    expect((await runPy('while True:\n    pass', { timeoutMs: 1_000 })).errorKind).toBe('timeout');
    const began = performance.now();
    expect((await runPy('import time\ntime.sleep(3600)', { timeoutMs: 500 })).errorKind).toBe('timeout');
    expect(performance.now() - began).toBeLessThan(5_000);
  });

  it('18. a memory bomb hits the address-space limit', async () => {
    const out = await runPy('blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))');
    expect(out.errorKind).toBe('out_of_memory');
  });

  it('19. huge output is cut at the cap and the process killed', async () => {
    const out = await runPy('import sys\nwhile True:\n    sys.stdout.write("B" * 4096)');
    expect(out).toMatchObject({ errorKind: 'output_too_large', truncated: true });
    expect(Buffer.byteLength(out.stdout)).toBeLessThanOrEqual(limits.maxOutputBytes);
  });

  it('20. cannot write outside the work dir (and /tmp writes stay inside)', async () => {
    const hostTarget = `/tmp/run-code-escape-${randomBytes(4).toString('hex')}`;
    const out = await runPy(`
res = {}
for p in ["/usr/escape", "/sandbox/main.py", "/escape", "/work/in/x", "/dev/escape", "${hostTarget}"]:
    try:
        open(p, "w").write("x"); res[p] = "written"
    except OSError as e:
        res[p] = type(e).__name__
res`);
    const result = out.result as Record<string, string>;
    for (const p of ['/usr/escape', '/sandbox/main.py', '/escape', '/work/in/x', '/dev/escape'])
      expect(result[p]).not.toBe('written');
    expect(existsSync(hostTarget)).toBe(false);
  });

  it('21. background processes and detached children do not survive the call', async () => {
    const marker = `daemon-${randomBytes(4).toString('hex')}`;
    const out = await runPy(`
import os, subprocess
subprocess.Popen(["/usr/bin/sleep", "60", "${marker}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    os.execv("/usr/bin/sleep", ["sleep", "61", "${marker}"])
"spawned"`);
    expect(out.result).toBe('spawned');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(processesWith(marker)).toEqual([]);
  });

  it('22. cannot create user namespaces, gain capabilities or signal the host', async () => {
    const out = await runPy(`
import os, signal, subprocess
r = {}
r["unshare"] = subprocess.run(["/usr/bin/unshare", "-U", "true"], capture_output=True).returncode
r["caps"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
try:
    os.kill(1, signal.SIGTERM); r["kill1"] = "sent"
except OSError as e:
    r["kill1"] = type(e).__name__
r["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())[:5]
r`);
    const result = out.result as { unshare: number; caps: string; pids: number[] };
    expect(result.unshare).not.toBe(0);
    expect(result.caps).toBe('0000000000000000');
    expect(Math.max(...result.pids)).toBeLessThan(100); // a private PID namespace
  });
});
