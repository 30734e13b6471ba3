import { afterAll, describe, expect, it } from 'vitest';
import {
  RUN_CODE_DEFAULTS,
  createRunCodeTool,
  effectiveLimits,
  sandboxFileName,
  type RunCodeLimits,
} from '../../../../src/tools/codeExecution/runCode.js';
import { JavaScriptSandbox } from '../../../../src/tools/codeExecution/javascriptSandbox.js';
import { PythonSandbox } from '../../../../src/tools/codeExecution/pythonSandbox.js';
import type { CodeSandbox, SandboxRequest } from '../../../../src/tools/codeExecution/types.js';
import { ToolCallResult, type ArtifactRef, type ToolCallInput } from '../../../../src/shared/toolTypes.js';

const maxima: RunCodeLimits = {
  timeoutMs: 10_000,
  memoryMb: 128,
  maxOutputBytes: 8_192,
  maxArtifactBytes: 1024 * 1024,
  maxArtifacts: 5,
};

function call(args: Record<string, unknown>, extra: Partial<ToolCallInput> = {}): ToolCallInput {
  return {
    runId: 'run-1',
    stepId: 'analyse',
    toolUseId: 'tu-1',
    name: 'run_code',
    arguments: args,
    ...extra,
  };
}

/** A sandbox that records what it was asked to run. */
function recordingSandbox(language: 'javascript' | 'python'): CodeSandbox & { requests: SandboxRequest[] } {
  const requests: SandboxRequest[] = [];
  return {
    language,
    kind: 'fake',
    requests,
    run(request) {
      requests.push(request);
      return Promise.resolve({
        ok: true,
        stdout: 'printed\n',
        stderr: '',
        hasResult: true,
        result: { n: 1 },
        files: [],
        truncated: false,
        durationMs: 3,
      });
    },
  };
}

function harness(overrides: { javascript?: CodeSandbox; python?: CodeSandbox } = {}) {
  const saved: { name: string; bytes: Buffer; contentType: string }[] = [];
  const inputs = new Map<string, Buffer>([
    ['blob://inputs/sales.csv', Buffer.from('region,amount\nnorth,3\n')],
  ]);
  const javascript = overrides.javascript ?? recordingSandbox('javascript');
  const tool = createRunCodeTool({
    javascript,
    ...(overrides.python ? { python: overrides.python } : {}),
    limits: maxima,
    saveArtifact: (name, bytes, contentType) => {
      saved.push({ name, bytes, contentType });
      return Promise.resolve({ name, blobRef: `blob://artifacts/${name}`, contentType, bytes: bytes.length });
    },
    loadInputFile: (ref) => {
      const bytes = inputs.get(ref.blobRef);
      return bytes ? Promise.resolve(bytes) : Promise.reject(new Error(`no blob ${ref.blobRef}`));
    },
  });
  return { tool, saved };
}

const salesRef: ArtifactRef = {
  name: 'sales.csv',
  blobRef: 'blob://inputs/sales.csv',
  contentType: 'text/csv',
  bytes: 22,
};

describe('effectiveLimits', () => {
  it('uses per-language defaults when the step sets nothing', () => {
    expect(effectiveLimits('javascript', undefined, maxima)).toMatchObject({
      timeoutMs: RUN_CODE_DEFAULTS.timeoutMs,
      memoryMb: 64,
      maxOutputBytes:
        RUN_CODE_DEFAULTS.maxOutputBytes > maxima.maxOutputBytes ? maxima.maxOutputBytes : 65536,
    });
    expect(effectiveLimits('python', undefined, maxima).memoryMb).toBe(128); // default 256, clamped to 128
  });

  it('clamps step limits to the global maxima and keeps lower ones', () => {
    expect(
      effectiveLimits('javascript', { timeoutMs: 60_000, memoryMb: 4096, maxOutputBytes: 10 ** 9 }, maxima),
    ).toEqual({
      timeoutMs: 10_000,
      memoryMb: 128,
      maxOutputBytes: 8_192,
      maxArtifactBytes: 1024 * 1024,
      maxArtifacts: 5,
    });
    expect(
      effectiveLimits('python', { timeoutMs: 250, memoryMb: 32, maxOutputBytes: 100 }, maxima),
    ).toMatchObject({
      timeoutMs: 250,
      memoryMb: 32,
      maxOutputBytes: 100,
    });
  });

  it('clamps defaults to maxima lower than them', () => {
    const tiny = { ...maxima, timeoutMs: 1_000, memoryMb: 16, maxOutputBytes: 512 };
    expect(effectiveLimits('javascript', undefined, tiny)).toMatchObject({
      timeoutMs: 1_000,
      memoryMb: 16,
      maxOutputBytes: 512,
    });
  });
});

describe('createRunCodeTool', () => {
  it('describes itself with a JSON schema the model can use', () => {
    const { tool } = harness();
    expect(tool.spec.name).toBe('run_code');
    expect(tool.spec.inputSchema).toMatchObject({ required: ['language', 'code'] });
  });

  it.each([
    [{}, /language/],
    [{ language: 'ruby', code: 'puts 1' }, /language/],
    [{ language: 'javascript' }, /code/],
    [{ language: 'javascript', code: '' }, /code/],
    [{ language: 'javascript', code: 1 }, /code/],
    [{ language: 'javascript', code: '1', extra: true }, /extra|unrecognized/i],
    [{ language: 'javascript', code: 'x'.repeat(100_001) }, /code/],
  ])('returns invalid_arguments (not a throw) for %j', async (args, message) => {
    const { tool } = harness();
    const result = ToolCallResult.parse(await tool.handler(call(args)));
    expect(result).toMatchObject({
      isError: true,
      errorKind: 'invalid_arguments',
      toolUseId: 'tu-1',
      name: 'run_code',
    });
    expect(result.content).toMatch(message);
  });

  it('passes clamped limits and input files to the sandbox', async () => {
    const javascript = recordingSandbox('javascript');
    const { tool } = harness({ javascript });
    const result = await tool.handler(
      call(
        { language: 'javascript', code: '1' },
        { limits: { timeoutMs: 99_999, memoryMb: 8 }, inputFiles: [salesRef] },
      ),
    );
    expect(result.isError).toBe(false);
    const request = javascript.requests[0];
    expect(request?.limits).toMatchObject({ timeoutMs: 10_000, memoryMb: 8 });
    expect(request?.files.map((f) => [f.name, f.bytes.toString()])).toEqual([
      ['sales.csv', 'region,amount\nnorth,3\n'],
    ]);
    expect(result.content).toContain('printed');
    expect(result.content).toContain('{"n":1}');
    expect(result.data).toMatchObject({ result: { n: 1 }, sandbox: 'fake' });
  });

  it('refuses Python when it is switched off', async () => {
    const { tool } = harness();
    const result = await tool.handler(call({ language: 'python', code: 'print(1)' }));
    expect(result).toMatchObject({ isError: true, errorKind: 'sandbox_unavailable' });
  });

  it('turns an unexpected sandbox exception into a retryable result', async () => {
    const javascript: CodeSandbox = {
      language: 'javascript',
      kind: 'broken',
      run: () => Promise.reject(new Error('worker pool exploded')),
    };
    const { tool } = harness({ javascript });
    const result = await tool.handler(call({ language: 'javascript', code: '1' }));
    expect(result).toMatchObject({ isError: true, errorKind: 'sandbox_unavailable', retryable: true });
  });

  it('throws on a malformed envelope (a programming error, not model input)', async () => {
    const { tool } = harness();
    await expect(tool.handler({ arguments: {} })).rejects.toThrow();
  });
});

describe('createRunCodeTool with real sandboxes', () => {
  const javascript = new JavaScriptSandbox({ poolSize: 1 });
  const python = new PythonSandbox();
  afterAll(() => javascript.close());

  it('saves a CSV written by JavaScript as an artifact', async () => {
    const { tool, saved } = harness({ javascript });
    const code = `
      const rows = files["sales.csv"].trim().split("\\n").slice(1).map((l) => l.split(","));
      writeFile("doubled.csv", "region,amount\\n" + rows.map(([r, a]) => r + "," + a * 2).join("\\n") + "\\n");
      rows.length`;
    const result = ToolCallResult.parse(
      await tool.handler(call({ language: 'javascript', code }, { inputFiles: [salesRef] })),
    );
    expect(result).toMatchObject({ isError: false, data: { result: 1 } });
    expect(result.artifacts).toEqual([
      { name: 'doubled.csv', blobRef: 'blob://artifacts/doubled.csv', contentType: 'text/csv', bytes: 22 },
    ]);
    expect(saved[0]?.bytes.toString()).toBe('region,amount\nnorth,6\n');
    expect(result.content).toContain('doubled.csv (text/csv, 22 bytes)');
  });

  it('reports a typed sandbox failure the model can read', async () => {
    const { tool } = harness({ javascript });
    const result = await tool.handler(
      call({ language: 'javascript', code: 'while (true) {}' }, { limits: { timeoutMs: 200 } }),
    );
    expect(result).toMatchObject({ isError: true, errorKind: 'timeout', retryable: false });
    expect(result.content).toMatch(/time limit/);
  });

  it('refuses a result nested deeper than 32 levels with a typed error instead of throwing', async () => {
    const { tool } = harness({ javascript });
    const code =
      'let a = []; let v = a; for (let i = 0; i < 3000; i++) { const n = []; v.push(n); v = n; } a';
    const result = await tool.handler(
      call({ language: 'javascript', code }, { limits: { maxOutputBytes: 60_000 } }),
    );
    expect(result).toMatchObject({ isError: true, errorKind: 'output_too_large', retryable: false });
    expect(result.content).toContain('nests arrays and objects deeper than 32 levels');
  });

  it('reports a string that doubles until it cannot as out_of_memory', async () => {
    const { tool } = harness({ javascript });
    const result = await tool.handler(
      call({ language: 'javascript', code: 'let s = "x"; for (;;) s += s;' }),
    );
    expect(result).toMatchObject({ isError: true, errorKind: 'out_of_memory' });
    expect(result.content).toContain('Out of memory');
  });

  it('reports an async loop that never settles as a timeout', async () => {
    const { tool } = harness({ javascript });
    for (let i = 0; i < 3; i++) {
      const result = await tool.handler(
        call(
          { language: 'javascript', code: '(async () => { for (;;) { await null; } })()' },
          { limits: { timeoutMs: 300 } },
        ),
      );
      expect(result).toMatchObject({ isError: true, errorKind: 'timeout' });
    }
  });

  it('caps the content given to the model', async () => {
    const { tool } = harness({ javascript });
    const result = await tool.handler(
      call(
        { language: 'javascript', code: 'for (let i = 0; i < 100; i++) console.log("y".repeat(50))' },
        { limits: { maxOutputBytes: 1_000 } },
      ),
    );
    expect(result).toMatchObject({ isError: true, errorKind: 'output_too_large', truncated: true });
    expect(Buffer.byteLength(result.content)).toBeLessThan(1_000 + 2_048 + 64);
  });

  const pythonProbe = python.probeSync();
  if (!pythonProbe.ok) {
    console.warn(
      `Skipping the run_code Python artifact test: ${pythonProbe.reason} (npm run setup installs bubblewrap)`,
    );
  }
  it.skipIf(!pythonProbe.ok)('saves a CSV and a PNG written by Python as artifacts', async () => {
    const { tool, saved } = harness({ python });
    const code = [
      'import struct, zlib',
      'def chunk(k, d): return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d) & 0xffffffff)',
      'png = b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"\\x00\\x00\\x00\\xff")) + chunk(b"IEND", b"")',
      'open("out/pixel.png", "wb").write(png)',
      'open("out/copy.csv", "w").write(open("in/sales.csv").read())',
    ].join('\n');
    const result = await tool.handler(call({ language: 'python', code }, { inputFiles: [salesRef] }));
    expect(result.isError).toBe(false);
    expect(result.artifacts.map((a) => [a.name, a.contentType]).sort()).toEqual([
      ['copy.csv', 'text/csv'],
      ['pixel.png', 'image/png'],
    ]);
    expect(saved.find((s) => s.name === 'copy.csv')?.bytes.toString()).toBe('region,amount\nnorth,3\n');
  });
});

describe('sandboxFileName', () => {
  it('flattens and de-duplicates names', () => {
    const taken = new Set<string>();
    expect(sandboxFileName('reports/2026/q1.csv', taken)).toBe('q1.csv');
    expect(sandboxFileName('q1.csv', taken)).toBe('2_q1.csv');
    expect(sandboxFileName('../../etc/passwd', taken)).toBe('passwd');
    expect(sandboxFileName('.hidden', taken)).toBe('hidden');
    expect(sandboxFileName('naïve file.txt', taken)).toBe('na_ve_file.txt');
  });
});
