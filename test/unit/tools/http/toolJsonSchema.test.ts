import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { TOOL_SCHEMA_PATH, toolSchemaText } from '../../../../scripts/lib/toolSchema.js';
import { editorValidator } from '../../../support/editorSchema.js';

const root = join(__dirname, '../../../..');
const validate = editorValidator(join(root, TOOL_SCHEMA_PATH));
const fixtureTools = join(root, 'test/fixtures/http-tools/tools');

describe('schemas/tool.schema.json', () => {
  it('is what `npm run schemas` generates from src/tools/http/schema.ts', async () => {
    expect(readFileSync(join(root, TOOL_SCHEMA_PATH), 'utf8')).toBe(await toolSchemaText(root));
  });

  it('accepts the example tool files, which point editors at it', () => {
    const files = readdirSync(fixtureTools).filter((name) => name.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      const text = readFileSync(join(fixtureTools, name), 'utf8');
      expect(text.split('\n')[0]).toBe(
        '# yaml-language-server: $schema=../../../../schemas/tool.schema.json',
      );
      expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('rejects a broken tool file: unknown key, bad method, unknown auth type', () => {
    const broken = {
      name: 'crm lookup',
      description: 'x',
      input: { type: 'object' },
      method: 'FETCH',
      url: 'https://crm.internal/x',
      auth: { type: 'basic' },
      retries: 3,
    };
    expect(validate(broken)).toBe(false);
    const problems = (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        '/name must match pattern "^[a-zA-Z0-9_-]{1,64}$"',
        '/method must be equal to one of the allowed values',
        ' must NOT have additional properties',
      ]),
    );
  });
});
