import { describe, expect, it } from 'vitest';
import { PythonSandbox } from '../../../../src/tools/codeExecution/pythonSandbox.js';
import type { EffectiveLimits } from '../../../../src/tools/codeExecution/types.js';

const limits: EffectiveLimits = {
  timeoutMs: 3_000,
  memoryMb: 128,
  maxOutputBytes: 4_096,
  maxArtifactBytes: 256 * 1024,
  maxArtifacts: 4,
};
const sandbox = new PythonSandbox();
const probe = sandbox.probeSync();
const available = probe.ok;
if (!probe.ok) {
  console.warn(
    `Skipping the PythonSandbox tests: ${probe.reason} (npm run setup installs bubblewrap and python3)`,
  );
}

/** A 1x1 PNG written from bytes (no matplotlib here): signature, IHDR, IDAT, IEND with CRCs. */
const PNG_SCRIPT = `
import struct, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
png = b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"\\x00\\xff\\x00\\x00")) + chunk(b"IEND", b"")
import csv
rows = list(csv.DictReader(open("in/sales.csv")))
with open("out/totals.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["region", "total"])
    for r in rows:
        w.writerow([r["region"], int(r["amount"]) * 2])
open("out/chart.png", "wb").write(png)
len(rows)
`;

describe.skipIf(!available)('PythonSandbox (bubblewrap)', () => {
  it('runs code, returns the last expression and captures stdout/stderr', async () => {
    const out = await sandbox.run({
      code: 'import sys\nprint("hi")\nprint("warn", file=sys.stderr)\n{"x": [1, 2], "y": None}',
      files: [],
      limits,
    });
    expect(out).toMatchObject({
      ok: true,
      stdout: 'hi\n',
      stderr: 'warn\n',
      hasResult: true,
      result: { x: [1, 2], y: null },
    });
  });

  it('falls back to repr() for results that are not JSON', async () => {
    const out = await sandbox.run({ code: '{1, 2}', files: [], limits });
    expect(out.result).toBe('{1, 2}');
  });

  it('captures a CSV and a PNG written to out/ as files, reading a CSV input', async () => {
    const out = await sandbox.run({
      code: PNG_SCRIPT,
      files: [{ name: 'sales.csv', bytes: Buffer.from('region,amount\nnorth,3\nsouth,5\n') }],
      limits,
    });
    expect(out.ok).toBe(true);
    expect(out.result).toBe(2);
    const byName = Object.fromEntries(out.files.map((f) => [f.name, f.bytes]));
    expect(Object.keys(byName).sort()).toEqual(['chart.png', 'totals.csv']);
    expect(byName['totals.csv']?.toString()).toBe('region,total\r\nnorth,6\r\nsouth,10\r\n');
    expect(byName['chart.png']?.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
  });

  it('keeps input files read-only', async () => {
    const out = await sandbox.run({
      code: 'import os\ntry:\n    open("in/data.csv", "a").write("x")\n    r = "written"\nexcept OSError as e:\n    r = e.strerror\n[r, open("in/data.csv").read()]',
      files: [{ name: 'data.csv', bytes: Buffer.from('a,b\n') }],
      limits,
    });
    const [error, text] = out.result as [string, string];
    expect(error).toMatch(/Read-only file system|Permission denied/);
    expect(text).toBe('a,b\n');
  });

  it('caps artifacts by count', async () => {
    const out = await sandbox.run({
      code: 'for i in range(10):\n    open(f"out/f{i}.txt", "w").write("x")',
      files: [],
      limits,
    });
    expect(out.ok).toBe(true);
    expect(out.files).toHaveLength(4);
    expect(out.truncated).toBe(true);
  });

  it.each([
    ['syntax_error', 'def f(:\n  pass'],
    ['runtime_error', 'raise ValueError("bad value")'],
    ['runtime_error', 'import sys; sys.exit(2)'],
    ['out_of_memory', 'x = bytearray(512 * 1024 * 1024)'],
    ['timeout', 'while True:\n    pass'],
    ['output_too_large', 'while True:\n    print("x" * 100)'],
  ])('reports %s', async (kind, code) => {
    const out = await sandbox.run({ code, files: [], limits: { ...limits, timeoutMs: 1_000 } });
    expect(out.ok).toBe(false);
    expect(out.errorKind).toBe(kind);
    expect(Buffer.byteLength(out.stdout) + Buffer.byteLength(out.stderr)).toBeLessThanOrEqual(
      limits.maxOutputBytes,
    );
  });

  it('a failing code run reports the exception for the model', async () => {
    const out = await sandbox.run({ code: 'raise ValueError("bad value")', files: [], limits });
    expect(out.errorMessage).toBe('ValueError: bad value');
    expect(out.stderr).toContain('Traceback');
    expect(out.stderr).not.toContain('runner.py');
  });
});

describe('PythonSandbox without a usable bubblewrap', () => {
  it('refuses with sandbox_unavailable and never runs the code unsandboxed', async () => {
    const broken = new PythonSandbox({ bwrapPath: '/nonexistent/bwrap' });
    const out = await broken.run({ code: 'print("ran")', files: [], limits });
    expect(out).toMatchObject({ ok: false, errorKind: 'sandbox_unavailable', stdout: '' });
    expect(out.errorMessage).toMatch(/never run unsandboxed/);
  });

  it('refuses an interpreter outside /usr', async () => {
    const broken = new PythonSandbox({ pythonPath: '/root/.pyenv/shims/python3' });
    expect(await broken.probe()).toMatchObject({ ok: false });
  });
});
