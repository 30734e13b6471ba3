import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Environment } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { compileExpression, ENVIRONMENT_OPTIONS, evaluate } from '../../../src/definitions/expressions.js';
import { ALLOWED_KEYS, STEP_KINDS } from '../../../src/definitions/schema.js';
import { ToolLimits } from '../../../src/shared/toolTypes.js';

/**
 * docs/workflow-reference.md against the schema and the expression engine: every field of every object,
 * every step kind and every expression function is documented, nothing documented is gone, and every
 * function example evaluates to the result the table shows.
 */
const doc = readFileSync(path.resolve(__dirname, '../../../docs/workflow-reference.md'), 'utf8');

/** The text under a heading, up to the next heading of the same or a higher level. */
function section(heading: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => line === heading);
  if (start < 0) throw new Error(`docs/workflow-reference.md has no heading "${heading}"`);
  const level = /^#+/.exec(heading)?.[0].length ?? 0;
  const end = lines.findIndex(
    (line, index) => index > start && /^#+ /.test(line) && (/^#+/.exec(line)?.[0].length ?? 0) <= level,
  );
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The first-column names of the first table in a text (its rows start with "| `name`"). */
function tableNames(text: string): string[] {
  const table = text.split('\n\n').find((block) => block.trimStart().startsWith('|')) ?? '';
  return table
    .split('\n')
    .map((row) => /^\|\s*`([^`]+)`/.exec(row)?.[1])
    .filter((name): name is string => name !== undefined);
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

describe('docs/workflow-reference.md', () => {
  it('documents exactly the fields of a workflow file and of budget', () => {
    expect(sorted(tableNames(section('## Workflow file')))).toEqual(sorted(ALLOWED_KEYS.definition));
    expect(sorted(tableNames(section('### `budget`')))).toEqual(sorted(ALLOWED_KEYS.budget));
  });

  it.each(STEP_KINDS)('documents exactly the fields of a %s step', (kind) => {
    expect(sorted(tableNames(section(`### \`${kind}\``)))).toEqual(sorted(ALLOWED_KEYS.step[kind]));
  });

  it('documents every step kind and no other', () => {
    const kinds = [...section('## Steps').matchAll(/^### `([a-z]+)`$/gm)].map((match) => match[1] ?? '');
    expect(sorted(kinds)).toEqual(sorted(STEP_KINDS));
  });

  it('documents exactly the tool limits', () => {
    expect(sorted(tableNames(section('#### `toolLimits`')))).toEqual(sorted(Object.keys(ToolLimits.shape)));
  });

  it('documents exactly the functions the expression engine offers', () => {
    const engine = new Environment({ ...ENVIRONMENT_OPTIONS, unlistedVariablesAreDyn: true });
    const offered = sorted(engine.getDefinitions().functions.map((fn) => fn.name));
    expect(offered.length).toBeGreaterThan(40);
    expect(sorted(tableNames(section('### Functions')))).toEqual(offered);
  });

  it('evaluates every function example to the documented result', () => {
    const scope = {
      input: { topic: 'Durable agents', questions: 3, tags: ['ai', 'ops'] },
      steps: { plan: { output: { questions: ['q1', 'q2'] } } },
    };
    const rows = section('### Functions')
      .split('\n')
      .filter((row) => row.startsWith('| `'));
    expect(rows.length).toBeGreaterThan(40);
    const problems: string[] = [];
    for (const row of rows) {
      const cells = row.split(/(?<!\\)\|/).map((cell) => cell.trim());
      const example = /^`(.+)` → `(.+)`$/.exec(cells.at(-2) ?? '');
      if (!example) {
        problems.push(`no "expression → result" example in: ${row}`);
        continue;
      }
      const [, expression = '', expected = ''] = example;
      const source = expression.replaceAll('\\|', '|');
      try {
        const actual = evaluate(compileExpression(source), scope);
        if (JSON.stringify(actual) !== JSON.stringify(JSON.parse(expected)))
          problems.push(`${source} → ${JSON.stringify(actual)}, documented ${expected}`);
      } catch (error) {
        problems.push(`${source}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
