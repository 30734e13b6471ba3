import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { check, resolveConfig } from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../../src/cli/main.js';
import { workflowTemplate, workflowTestTemplate } from '../../../src/cli/scaffold.js';
import { parseWorkflowDefinition } from '../../../src/definitions/parseDefinition.js';

const root = join(__dirname, '../../..');
// Inside the repository (ignored by git, eslint and prettier) so the scaffolded test resolves vitest.
mkdirSync(join(root, 'test-artifacts'), { recursive: true });
const scratch = mkdtempSync(join(root, 'test-artifacts', 'workflows-new-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: {},
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    isTTY: false,
    fetch: () => Promise.reject(new Error('workflows new must not call the app')),
  });
  return { code, stdout, stderr };
}

function dirs(name: string): string[] {
  const base = join(scratch, name);
  return ['--dir', join(base, 'workflows'), '--test-dir', join(base, 'test', 'workflows')];
}

describe('durable-agents workflows new', () => {
  it('writes a valid workflow with the schema line and a test that passes', async () => {
    const result = await cli(['workflows', 'new', 'summarize-ticket', ...dirs('ok')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const workflowFile = join(scratch, 'ok', 'workflows', 'summarize-ticket.yaml');
    const testFile = join(scratch, 'ok', 'test', 'workflows', 'summarize-ticket.test.ts');
    expect(result.stdout).toContain('summarize-ticket.yaml');
    expect(result.stdout).toContain('summarize-ticket.test.ts');

    const text = readFileSync(workflowFile, 'utf8');
    const schemaLine = text.split('\n')[0]!;
    expect(schemaLine).toMatch(/^# yaml-language-server: \$schema=\.\.\/.*schemas\/workflow\.schema\.json$/);
    // The relative path in the schema line reaches the committed schema.
    const schemaFile = join(join(scratch, 'ok', 'workflows'), schemaLine.split('$schema=')[1]!);
    expect(schemaFile.endsWith(join('schemas', 'workflow.schema.json'))).toBe(true);
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as object;
    const validate = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false }).compile(schema);
    expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);

    const parsed = parseWorkflowDefinition(text, 'summarize-ticket.yaml', {
      expectedName: 'summarize-ticket',
    });
    expect(parsed.errors).toEqual([]);
    expect(parsed.definition?.steps).toMatchObject([{ id: 'answer', kind: 'llm', role: 'writer' }]);

    // The scaffolded test itself runs green with the repository's vitest (its own config: the
    // repository's only includes test/, and its global setup starts services this test does not need).
    const config = join(scratch, 'ok', 'vitest.config.mjs');
    writeFileSync(config, "export default { test: { include: ['**/*.test.ts'] } };\n");
    const output = execFileSync(
      process.execPath,
      [
        join(root, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--config',
        config,
        '--root',
        join(scratch, 'ok'),
      ],
      { cwd: root, encoding: 'utf8', env: { ...process.env, CI: '1', NO_COLOR: '1' } },
    );
    expect(output).toMatch(/summarize-ticket\.test\.ts/);
    // Both tests ran, the first on the local host with a scripted model (an in-memory Azurite of its own).
    expect(output).toMatch(/Tests\s+2 passed/);
    const scaffoldedTest = readFileSync(testFile, 'utf8');
    expect(scaffoldedTest).toContain("const NAME = 'summarize-ticket';");
    expect(scaffoldedTest).toContain("from 'durable-agents/testing'");
  }, 180_000);

  it('writes files that pass the repository prettier check, even for the longest name', async () => {
    const name = `a${'-b'.repeat(31)}c`;
    expect(name).toHaveLength(64);
    const options = { ...(await resolveConfig(join(root, 'x.ts'))) };
    const scaffolded = [
      ['w.yaml', workflowTemplate(name, '../schemas/workflow.schema.json')],
      ['w.test.ts', workflowTestTemplate(name, '../../workflows')],
    ] as const;
    for (const [filepath, text] of scaffolded) {
      expect(await check(text, { ...options, filepath }), filepath).toBe(true);
    }
  });

  it('refuses to overwrite an existing workflow or test, and writes neither', async () => {
    const [, workflowsDir, , testDir] = dirs('exists');
    mkdirSync(testDir!, { recursive: true });
    const testFile = join(testDir!, 'taken.test.ts');
    writeFileSync(testFile, '// mine\n');
    const result = await cli(['workflows', 'new', 'taken', ...dirs('exists')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/taken\.test\.ts already exists; not overwriting/);
    expect(readFileSync(testFile, 'utf8')).toBe('// mine\n');
    expect(existsSync(join(workflowsDir!, 'taken.yaml'))).toBe(false);

    mkdirSync(workflowsDir!, { recursive: true });
    writeFileSync(join(workflowsDir!, 'other.yml'), 'name: other\n');
    const again = await cli(['workflows', 'new', 'other', ...dirs('exists')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/other\.yml already exists; not overwriting/);
    expect(readFileSync(join(workflowsDir!, 'other.yml'), 'utf8')).toBe('name: other\n');
  });

  it.each(['Summarize', 'summarize_ticket', '1st-pass', 'a--b', 'trailing-', '../escape', 'x'.repeat(65)])(
    'rejects the name %j with a usage error',
    async (name) => {
      const result = await cli(['workflows', 'new', name, ...dirs('bad')]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`invalid workflow name "${name}": use kebab-case`);
      expect(existsSync(join(scratch, 'bad'))).toBe(false);
    },
  );

  it('needs exactly one name', async () => {
    const missing = await cli(['workflows', 'new', ...dirs('none')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Missing the workflow name');
    const extra = await cli(['workflows', 'new', 'one', 'two', ...dirs('none')]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('Unexpected "two"');
  });

  it('is listed in the help', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toContain('workflows new <name>');
    const own = await cli(['workflows', 'new', '--help']);
    expect(own.stdout).toContain('--test-dir <dir>');
  });
});
