import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkflowDirectory } from '../../src/definitions/loadWorkflows.js';
import { sameJson } from '../../src/shared/carriedDefinition.js';
import { RunWorkflowInput } from '../../src/shared/runTypes.js';

const shipped = loadWorkflowDirectory(path.resolve(__dirname, '../../workflows'));
/** A definition as an orchestration input carries it: plain JSON, a fresh copy each replay. */
const carried = (name: string) => JSON.parse(JSON.stringify(shipped.definitions.get(name))) as unknown;

describe('CarriedDefinition (definitions inside orchestration inputs)', () => {
  it('checks each distinct definition once and hands every replay the same frozen result', () => {
    const first = RunWorkflowInput.parse({ definition: carried('ticket-triage'), input: { n: 1 } });
    const replay = RunWorkflowInput.parse({ definition: carried('ticket-triage'), input: { n: 2 } });
    expect(replay.definition).toBe(first.definition);
    expect(first.definition).toEqual(shipped.definitions.get('ticket-triage'));
    expect(Object.isFrozen(first.definition.steps[0])).toBe(true);
    const other = RunWorkflowInput.parse({ definition: carried('research-report'), input: {} });
    expect(other.definition).not.toBe(first.definition);
    expect(other.definition.name).toBe('research-report');
  });

  it('a changed definition text is checked again, and a broken one fails at its path', () => {
    const edited = carried('ticket-triage') as { description: string; steps: unknown[] };
    edited.description = 'Edited without bumping the version.';
    const parsed = RunWorkflowInput.parse({ definition: edited, input: {} });
    expect(parsed.definition.description).toBe('Edited without bumping the version.');

    const broken = carried('ticket-triage') as { steps: unknown[] };
    broken.steps = [];
    const result = RunWorkflowInput.safeParse({ definition: broken, input: {} });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['definition', 'steps']);
    expect(result.error?.issues[0]?.message).toContain('at least one step');
    const missing = RunWorkflowInput.safeParse({ input: {} });
    expect(missing.error?.issues[0]?.path).toEqual(['definition']);
  });

  it('reuses a result only for the same JSON, key for key and in the same order', () => {
    const first = RunWorkflowInput.parse({ definition: carried('ticket-triage'), input: {} });
    const { name, version, ...rest } = carried('ticket-triage') as Record<string, unknown>;
    const reordered = RunWorkflowInput.parse({ definition: { version, name, ...rest }, input: {} });
    expect(reordered.definition).not.toBe(first.definition);
    expect(reordered.definition).toEqual(first.definition);
    const again = RunWorkflowInput.parse({ definition: { version, name, ...rest }, input: {} });
    expect(again.definition).toBe(reordered.definition);
  });

  it('sameJson agrees with comparing the JSON texts', () => {
    const cases: [unknown, unknown][] = [
      [
        { a: 1, b: [1, 2] },
        { a: 1, b: [1, 2] },
      ],
      [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ],
      [{ a: 1 }, { a: 1, b: 2 }],
      [
        [1, 2],
        [1, 2, 3],
      ],
      [
        [1, { x: 'y' }],
        [1, { x: 'z' }],
      ],
      [{ a: [] }, { a: {} }],
      [{ a: null }, { a: 0 }],
      ['1', 1],
      [null, null],
    ];
    for (const [a, b] of cases) expect(sameJson(a, b)).toBe(JSON.stringify(a) === JSON.stringify(b));
  });
});
