import { afterAll, describe, expect, it } from 'vitest';
import { JavaScriptSandbox } from '../../../../src/tools/codeExecution/javascriptSandbox.js';
import type { EffectiveLimits, SandboxRequest } from '../../../../src/tools/codeExecution/types.js';

const limits: EffectiveLimits = {
  timeoutMs: 2_000,
  memoryMb: 32,
  maxOutputBytes: 4_096,
  maxArtifactBytes: 64 * 1024,
  maxArtifacts: 3,
};
const sandbox = new JavaScriptSandbox({ poolSize: 2 });
afterAll(() => sandbox.close());

function run(code: string, extra: Partial<SandboxRequest> = {}) {
  return sandbox.run({ code, files: [], limits, ...extra });
}

describe('JavaScriptSandbox (QuickJS in a worker)', () => {
  it('returns the last expression as JSON and captures console output', async () => {
    const out = await run(
      'console.log("hello", {a: 1}); console.error("oops"); ({ sum: 1 + 2, list: [1, "x"] })',
    );
    expect(out).toMatchObject({ ok: true, hasResult: true, result: { sum: 3, list: [1, 'x'] } });
    expect(out.stdout).toBe('hello {"a":1}\n');
    expect(out.stderr).toBe('oops\n');
  });

  it('awaits a returned promise', async () => {
    const out = await run('(async () => { const x = await Promise.resolve(20); return x + 22; })()');
    expect(out).toMatchObject({ ok: true, result: 42 });
  });

  it('has no result when the last statement is not an expression', async () => {
    const out = await run('let x = 1;');
    expect(out).toMatchObject({ ok: true, hasResult: false });
  });

  it('exposes input files as a frozen object of strings', async () => {
    const out = await run(
      `"use strict";
       let denied = false;
       try { files["data.csv"] = "changed"; } catch (e) { denied = e instanceof TypeError; }
       ({ text: files["data.csv"], rows: files["data.csv"].trim().split("\\n").length, denied, frozen: Object.isFrozen(files) })`,
      { files: [{ name: 'data.csv', bytes: Buffer.from('a,b\n1,2\n3,4\n') }] },
    );
    expect(out.result).toEqual({ text: 'a,b\n1,2\n3,4\n', rows: 3, denied: true, frozen: true });
  });

  it('captures files written with writeFile (text and base64)', async () => {
    const out = await run(`
      writeFile("summary.csv", "city,total\\nOslo,3\\n");
      writeFile("blob.bin", "AAEC/w==", "base64");
      "done"`);
    expect(out.ok).toBe(true);
    expect(out.files.map((f) => f.name)).toEqual(['summary.csv', 'blob.bin']);
    expect(out.files[0]?.bytes.toString()).toBe('city,total\nOslo,3\n');
    expect([...(out.files[1]?.bytes ?? [])]).toEqual([0, 1, 2, 255]);
  });

  it('rejects unsafe file names and too many files', async () => {
    const bad = await run('writeFile("../escape.txt", "x")');
    expect(bad).toMatchObject({ ok: false, errorKind: 'runtime_error' });
    expect(bad.errorMessage).toMatch(/invalid file name/);
    const many = await run('for (let i = 0; i < 5; i++) writeFile("f" + i + ".txt", "x")');
    expect(many).toMatchObject({ ok: false, errorKind: 'runtime_error', truncated: true });
    expect(many.files).toHaveLength(3);
  });

  it.each([
    ['syntax_error', 'let = ;'],
    ['runtime_error', 'null.x'],
    ['runtime_error', 'throw "plain string"'],
    ['runtime_error', 'function f() { return f() + 1 } f()'],
    ['runtime_error', 'const o = {}; o.self = o; o'],
    ['timeout', 'while (true) {}'],
    ['out_of_memory', 'const a = []; for (let i = 0; ; i++) a.push({ i, s: "row" + i })'],
    ['out_of_memory', 'const a = []; for (;;) a.push(new ArrayBuffer(1 << 20))'],
    ['output_too_large', 'for (;;) console.log("x".repeat(100))'],
    ['output_too_large', '"y".repeat(10000)'],
  ])('reports %s for %s', async (kind, code) => {
    const out = await run(code);
    expect(out.ok).toBe(false);
    expect(out.errorKind).toBe(kind);
    expect(out.errorMessage).toBeTruthy();
    expect(Buffer.byteLength(out.stdout) + Buffer.byteLength(out.stderr)).toBeLessThanOrEqual(
      limits.maxOutputBytes,
    );
  });

  it('stops a timeout close to the deadline', async () => {
    const began = performance.now();
    const out = await run('for (;;) {}', { limits: { ...limits, timeoutMs: 300 } });
    expect(out.errorKind).toBe('timeout');
    expect(performance.now() - began).toBeLessThan(1_500);
  });

  it('reuses workers but gives every call a fresh runtime', async () => {
    await run('globalThis.leak = 1; var carried = 2;');
    const out = await run('[typeof globalThis.leak, typeof carried]');
    expect(out.result).toEqual(['undefined', 'undefined']);
    expect(sandbox.liveWorkers).toBeLessThanOrEqual(2);
  });

  it('disposes every handle on every path (QuickJS debug build asserts on leaks)', async () => {
    const debug = new JavaScriptSandbox({ poolSize: 1, variant: 'debug' });
    try {
      const programs = [
        '1 + 1',
        'console.log("x"); writeFile("a.txt", "b"); ({ ok: true })',
        'throw new Error("boom")',
        'let = ;',
        '(async () => 5)()',
        'Promise.reject(new Error("no"))',
        'const o = {}; o.o = o; o',
        'files["in.txt"].length',
      ];
      for (let round = 0; round < 5; round++) {
        for (const code of programs) {
          const out = await debug.run({
            code,
            files: [{ name: 'in.txt', bytes: Buffer.from('abc') }],
            limits,
          });
          expect(out.errorMessage ?? '').not.toMatch(/sandbox stopped|assert|crashed/i);
        }
      }
      expect(debug.workersStarted).toBe(1);
    } finally {
      await debug.close();
    }
  });

  it('does not grow host memory over many calls', async () => {
    const warm = new JavaScriptSandbox({ poolSize: 1 });
    try {
      for (let i = 0; i < 20; i++) await warm.run({ code: '"x".repeat(100000).length', files: [], limits });
      const before = process.memoryUsage().rss;
      for (let i = 0; i < 150; i++) {
        const out = await warm.run({
          code: 'let a = []; for (let i = 0; i < 10000; i++) a.push({ i }); a.length',
          files: [],
          limits,
        });
        expect(out.result).toBe(10000);
      }
      const grownMb = (process.memoryUsage().rss - before) / 2 ** 20;
      expect(grownMb).toBeLessThan(150);
      expect(warm.workersStarted).toBe(1);
    } finally {
      await warm.close();
    }
  });
});
