import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseWorkflowSources } from '../../../src/definitions/workflowSet.js';

const fixture = join(__dirname, '../../fixtures/definitions/valid/compare-options.yaml');
const original = parse(readFileSync(fixture, 'utf8')) as unknown;

/** Every path to a value inside `value`. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const children = Array.isArray(value)
    ? value.map((item, i) => [i, item] as const)
    : value && typeof value === 'object'
      ? Object.entries(value)
      : [];
  return [prefix, ...children.flatMap(([key, child]) => pathsOf(child, [...prefix, key]))];
}

function replaced(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...(value as unknown[])] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head!] = replaced(copy[head!], rest, replacement);
  return copy;
}

const junk: unknown[] = [
  null,
  0,
  -1,
  2.5,
  '',
  '{{',
  '{{ steps.nope.output }}',
  [],
  {},
  ['x'],
  { kind: 'x' },
  true,
];

describe('robustness', () => {
  it('never throws, whatever value sits anywhere in a definition', () => {
    const sources = (text: string) => [
      { file: 'workflows/compare-options.yaml', name: 'compare-options', text },
      {
        file: 'workflows/score-option.yaml',
        name: 'score-option',
        text: readFileSync(fixture.replace('compare-options', 'score-option'), 'utf8'),
      },
    ];
    let checked = 0;
    for (const path of pathsOf(original)) {
      for (const value of junk) {
        const text = stringify(replaced(original, path, value));
        expect(() => parseWorkflowSources(sources(text))).not.toThrow();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });
});
