/**
 * `durable-agents workflows new <name>`: writes a minimal valid workflow (one llm step, with the
 * editor's schema line) and a vitest file that runs it on the testing harness (durable-agents/testing)
 * with a scripted model. Local files only: unlike the other commands it never calls the app.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { WORKFLOW_NAME_PATTERN } from '../definitions/schema.js';
import { CliError } from './apiClient.js';
import type { Command } from './commands.js';

const USAGE = 'workflows new <name> [--dir <dir>] [--test-dir <dir>]';
const DEFAULT_WORKFLOWS_DIR = 'workflows';
const DEFAULT_TEST_DIR = join('test', 'workflows');
/** Longer names make unwieldy instance ids and file names; the loader itself has no limit. */
const MAX_NAME_LENGTH = 64;

export interface ScaffoldOptions {
  readonly name: string;
  /** Where the workflow goes; relative paths are resolved against `cwd`. */
  readonly workflowsDir?: string;
  readonly testDir?: string;
  readonly cwd?: string;
  /** The durable-agents package root (holds schemas/); found from this file by default. */
  readonly packageRoot?: string;
}

export interface ScaffoldResult {
  readonly workflowFile: string;
  readonly testFile: string;
}

/** The folder holding package.json: dist/src/cli when built, src/cli under vitest. */
function findPackageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new CliError('cannot find the durable-agents package.json above the CLI', 1);
    dir = parent;
  }
  return dir;
}

/** A relative path with forward slashes, as YAML comments and ES imports want it. */
function relativePath(from: string, to: string): string {
  const path = relative(from, to).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

export function validateWorkflowName(name: string | undefined): string {
  if (!name) throw new CliError(`Missing the workflow name. Usage: durable-agents ${USAGE}`, 2);
  if (!WORKFLOW_NAME_PATTERN.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new CliError(
      `invalid workflow name "${name}": use kebab-case (lowercase letters and digits, words joined by "-", ` +
        `starting with a letter, at most ${MAX_NAME_LENGTH} characters), e.g. summarize-ticket`,
      2,
    );
  }
  return name;
}

export function workflowTemplate(name: string, schemaPath: string): string {
  return `# yaml-language-server: $schema=${schemaPath}
name: ${name}
version: 0.1.0
description: >-
  TODO: what this workflow does, in a sentence or two (shown in the API, the MCP tool list and the
  dashboard).

input:
  type: object
  additionalProperties: false
  required: [text]
  properties:
    text:
      type: string
      minLength: 1
      maxLength: 20000
      description: The text to work on.

steps:
  - id: answer
    kind: llm
    role: writer
    prompt: |-
      TODO: describe the task for the model.

      {{ input.text }}

output: answer
`;
}

/** A test on the testing harness (docs/testing.md): the real app on the local host, a scripted model. */
export function workflowTestTemplate(name: string, workflowsDir: string): string {
  return `import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkflowHarness, textResponse, type WorkflowHarness } from 'durable-agents/testing';

const NAME = '${name}';
let harness: WorkflowHarness;

beforeAll(async () => {
  harness = await startWorkflowHarness({ workflows: join(__dirname, '${workflowsDir}', \`\${NAME}.yaml\`) });
}, 120_000); // starting the local host (and Azurite) takes a few seconds
afterAll(async () => harness?.stop(), 30_000);

describe('${name} workflow', () => {
  it('runs the answer step with the writer and returns its text', async () => {
    // TODO: script what the model answers in each step (docs/testing.md), and assert on it below.
    harness.expectModel({ step: 'answer', role: 'writer', respond: textResponse('Hello back') });
    const run = await harness.start(NAME, { text: 'Hello' });
    const result = await run.result();
    harness.model.assertDone();

    expect(result.outcome).toBe('completed');
    expect(result.output).toBe('Hello back');
    expect(result.ledger.map((row) => [row.stepId, row.role, row.calls])).toEqual([['answer', 'writer', 1]]);
    await run.assertReplays();
  }, 60_000);

  it('rejects an input without text', async () => {
    await expect(harness.start(NAME, {})).rejects.toThrow(/400/);
  });
});
`;
}

/** Writes both files, or neither: an existing file (either one) is never overwritten. */
export function scaffoldWorkflow(options: ScaffoldOptions): ScaffoldResult {
  const name = validateWorkflowName(options.name);
  const cwd = options.cwd ?? process.cwd();
  const root = options.packageRoot ?? findPackageRoot();
  const workflowsDir = resolve(cwd, options.workflowsDir ?? DEFAULT_WORKFLOWS_DIR);
  const testDir = resolve(cwd, options.testDir ?? DEFAULT_TEST_DIR);
  const workflowFile = join(workflowsDir, `${name}.yaml`);
  const testFile = join(testDir, `${name}.test.ts`);
  const existing = [workflowFile, join(workflowsDir, `${name}.yml`), testFile].filter((file) =>
    existsSync(file),
  );
  if (existing.length > 0) {
    const shown = existing.map((file) => relative(cwd, file));
    throw new CliError(
      `${shown.join(' and ')} already ${shown.length === 1 ? 'exists' : 'exist'}; not overwriting`,
      1,
    );
  }
  const schemaPath = relativePath(workflowsDir, join(root, 'schemas', 'workflow.schema.json'));
  mkdirSync(workflowsDir, { recursive: true });
  mkdirSync(testDir, { recursive: true });
  // 'wx' fails if the file appeared since the check above.
  writeFileSync(workflowFile, workflowTemplate(name, schemaPath), { flag: 'wx' });
  writeFileSync(testFile, workflowTestTemplate(name, relativePath(testDir, workflowsDir)), {
    flag: 'wx',
  });
  return { workflowFile, testFile };
}

export const workflowsNewCommand: Command = {
  usage: USAGE,
  summary: 'create workflows/<name>.yaml (one llm step, editor schema line) and a test for it',
  optionHelp: [
    `--dir <dir>          where the workflow goes (default ${DEFAULT_WORKFLOWS_DIR})`,
    `--test-dir <dir>     where its test goes (default ${DEFAULT_TEST_DIR})`,
  ],
  options: { dir: { type: 'string' }, 'test-dir': { type: 'string' } },
  run: (context) => {
    if (context.positionals.length > 1) {
      throw new CliError(`Unexpected "${context.positionals[1]}". Usage: durable-agents ${USAGE}`, 2);
    }
    const dir = context.options.dir;
    const testDir = context.options['test-dir'];
    const result = scaffoldWorkflow({
      name: validateWorkflowName(context.positionals[0]),
      ...(typeof dir === 'string' ? { workflowsDir: dir } : {}),
      ...(typeof testDir === 'string' ? { testDir } : {}),
    });
    const shown = (file: string) => relative(process.cwd(), file);
    const lines = [
      `Created ${shown(result.workflowFile)}`,
      `Created ${shown(result.testFile)}`,
      'Next: edit the TODOs, then npm run validate and npx vitest run ' + shown(result.testFile),
    ];
    context.out.write(
      context.out.json
        ? JSON.stringify({ workflowFile: result.workflowFile, testFile: result.testFile }, null, 2)
        : lines.join('\n'),
    );
    return Promise.resolve(0);
  },
};
