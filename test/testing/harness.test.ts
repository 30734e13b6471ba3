import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  TestClock,
  startWorkflowHarness,
  structuredResponse,
  type WorkflowHarness,
} from 'durable-agents/testing';

/** The harness itself: strict model scripts, one harness per process, the clock, and the package entry. */
const root = path.resolve(__dirname, '../..');
const TRIAGE = path.join(root, 'workflows/ticket-triage.yaml');
const run = promisify(execFile);

describe('the model script', () => {
  let harness: WorkflowHarness;
  beforeAll(async () => {
    harness = await startWorkflowHarness({ workflows: TRIAGE, storage: inject('azuriteConnectionString') });
  });
  afterAll(async () => harness?.stop());

  it('does not answer a step with an answer scripted for another step, and says which', async () => {
    harness.expectModel({
      step: 'escalate',
      name: 'escalation answer',
      respond: structuredResponse({ category: 'bug', priority: 'low', confidence: 1, summary: 'x' }),
    });
    const result = await harness.run('ticket-triage', { subject: 'Hi', body: 'Help' });
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatchObject({ stepId: 'classify' });
    expect(() => harness.model.assertDone()).toThrow(/does not match the next step[\s\S]*escalation answer/);
  });

  it('refuses a second harness in the same process, naming the first', async () => {
    await expect(startWorkflowHarness({ workflows: TRIAGE })).rejects.toThrow(
      /already running in this process \(started for .*ticket-triage\.yaml\)/,
    );
  });
});

describe('startWorkflowHarness input checks', () => {
  it('names a missing workflow file', async () => {
    await expect(startWorkflowHarness({ workflows: path.join(root, 'workflows/nope.yaml') })).rejects.toThrow(
      /no workflow file or folder .*nope\.yaml/,
    );
  });
});

describe('TestClock', () => {
  it('fires due timers, jumps only under autoSkip, and takes ISO-8601 durations', () => {
    const clock = new TestClock({ startMs: 1_000_000 });
    const start = clock.now();
    expect(clock.skipTo(start - 1)).toBe(true);
    expect(clock.skipTo(start + 60_000)).toBe(false);
    expect(clock.advance('PT1M')).toBe(60_000);
    expect(clock.now() - start).toBeGreaterThanOrEqual(60_000);
    expect(clock.skipTo(start + 60_000)).toBe(true);
    clock.autoSkip = true;
    expect(clock.skipTo(start + 86_400_000)).toBe(true);
    expect(clock.now()).toBeGreaterThanOrEqual(start + 86_400_000);
    expect(() => clock.advance('P1M')).toThrow(/ISO-8601 duration/);
    expect(() => clock.advance(-5)).toThrow(/milliseconds \(>= 0\)/);
  });
});

describe('the durable-agents/testing entry', () => {
  let project: string;
  beforeAll(() => {
    // A user project that depends on this package, as `npm install <path>` links it.
    project = mkdtempSync(path.join(tmpdir(), 'durable-agents-user-'));
    mkdirSync(path.join(project, 'node_modules'));
    symlinkSync(root, path.join(project, 'node_modules/durable-agents'), 'dir');
    symlinkSync(path.join(root, 'node_modules/@types'), path.join(project, 'node_modules/@types'), 'dir');
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({
        name: 'user-project',
        private: true,
        dependencies: { 'durable-agents': `file:${root}` },
      }),
    );
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('resolves from a project that depends on the package, as ESM and CommonJS', async () => {
    writeFileSync(
      path.join(project, 'esm.mjs'),
      "import { startWorkflowHarness, TestClock } from 'durable-agents/testing';\n" +
        'console.log(typeof startWorkflowHarness, typeof TestClock);\n',
    );
    writeFileSync(
      path.join(project, 'cjs.cjs'),
      "const testing = require('durable-agents/testing');\nconsole.log(Object.keys(testing).includes('toolError'));\n",
    );
    expect((await run(process.execPath, ['esm.mjs'], { cwd: project })).stdout.trim()).toBe(
      'function function',
    );
    expect((await run(process.execPath, ['cjs.cjs'], { cwd: project })).stdout.trim()).toBe('true');
    // Only the exported entries: internals stay private.
    await expect(
      run(process.execPath, ['-e', "require('durable-agents/dist/src/testing/harness.js')"], {
        cwd: project,
      }),
    ).rejects.toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it('type-checks a user test against the published types', async () => {
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['user.ts'],
      }),
    );
    const user = [
      "import { startWorkflowHarness, structuredResponse, type RunResult } from 'durable-agents/testing';",
      'export async function check(): Promise<RunResult> {',
      "  const harness = await startWorkflowHarness({ workflows: 'workflows', model: { steps: [",
      "    { step: 'classify', respond: structuredResponse({ ok: true }) }] } });",
      "  return harness.run('ticket-triage', { subject: 's', body: 'b' });",
      '}',
      // A wrong option must be a type error, or the types check nothing.
      "export const bad = () => startWorkflowHarness({ workflow: 'x' });",
    ].join('\n');
    writeFileSync(path.join(project, 'user.ts'), user);
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const failed = await run(process.execPath, [tsc, '-p', project], { cwd: project }).then(
      () => undefined,
      (error: { stdout: string }) => error.stdout,
    );
    expect(failed).toMatch(
      /user\.ts\(7,\d+\): error TS2561: Object literal may only specify known properties/,
    );
    expect(failed?.split('\n').filter((line) => line.includes('error TS'))).toHaveLength(1);
  }, 120_000);
});
