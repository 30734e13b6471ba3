import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseWorkflowDefinition } from '../../../src/definitions/parseDefinition.js';
import { STEP_KINDS } from '../../../src/definitions/schema.js';
import { WORKFLOW_SCHEMA_PATH, workflowSchemaText } from '../../../scripts/lib/workflowSchema.js';
import { editorValidator } from '../../support/editorSchema.js';

const root = join(__dirname, '../../..');
const schemaFile = join(root, WORKFLOW_SCHEMA_PATH);
const SCHEMA_LINE = '# yaml-language-server: $schema=../schemas/workflow.schema.json';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

const shipped = yamlFiles(join(root, 'workflows'));
const committed = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
const validate = editorValidator(schemaFile);

const minimal = {
  name: 'minimal',
  version: 1,
  description: 'One step.',
  input: { type: 'object' },
  output: 'answer',
  steps: [{ id: 'answer', kind: 'llm', role: 'writer', prompt: 'Hello' }],
};

function errorsOf(value: unknown): string[] {
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

describe('schemas/workflow.schema.json', () => {
  it('equals what npm run schemas generates from the zod schemas (not stale)', async () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(await workflowSchemaText(root));
  });

  it('names a $defs entry for every step kind', () => {
    const defs = committed.$defs as Record<string, { properties?: { kind?: { const?: string } } }>;
    const kinds = Object.values(defs).map((def) => def.properties?.kind?.const);
    expect(kinds.filter(Boolean).sort()).toEqual([...STEP_KINDS].sort());
  });

  it('finds the shipped workflows', () => {
    expect(shipped.length).toBeGreaterThanOrEqual(3);
  });

  it.each(shipped.map((file) => [file.slice(root.length + 1), file]))(
    '%s starts with the schema line and validates against the schema',
    (_, file) => {
      const text = readFileSync(file, 'utf8');
      expect(text.split('\n')[0]).toBe(SCHEMA_LINE);
      expect(errorsOf(parse(text))).toEqual([]);
    },
  );

  it('also accepts the valid loader fixtures (every step kind)', () => {
    const fixtures = yamlFiles(join(root, 'test/fixtures/definitions/valid'));
    expect(fixtures.length).toBeGreaterThan(0);
    for (const file of fixtures) expect(errorsOf(parse(readFileSync(file, 'utf8')))).toEqual([]);
  });

  it('accepts a minimal workflow and rejects broken ones', () => {
    expect(errorsOf(minimal)).toEqual([]);
    const step = minimal.steps[0]!;
    const broken: Record<string, unknown> = {
      'unknown step kind': { ...minimal, steps: [{ ...step, kind: 'llmm' }] },
      'missing prompt': { ...minimal, steps: [{ id: 'answer', kind: 'llm', role: 'writer' }] },
      'unknown key on a step': { ...minimal, steps: [{ ...step, temperature: 0.2 }] },
      'missing description': { ...minimal, description: undefined },
      'no steps': { ...minimal, steps: [] },
      'name not kebab-case': { ...minimal, name: 'Minimal_Flow' },
      'agent without tools': { ...minimal, steps: [{ ...step, kind: 'agent' }] },
      'unknown key at the top': { ...minimal, stesp: [] },
    };
    for (const [what, value] of Object.entries(broken)) {
      expect(errorsOf(JSON.parse(JSON.stringify(value))), what).not.toEqual([]);
    }
  });

  it('keeps file:line errors exact in shipped files with the schema line', () => {
    const file = shipped[0]!;
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((line) => /^\s*(- )?kind: /.test(line));
    expect(at).toBeGreaterThan(0);
    lines[at] = lines[at]!.replace(/kind: \S+/, 'kind: llmm');
    const result = parseWorkflowDefinition(lines.join('\n'), 'w.yaml');
    expect(result.errors.map((error) => error.line)).toContain(at + 1);
    expect(result.errors.map((error) => error.message).join('\n')).toContain('unknown step kind "llmm"');
  });
});
