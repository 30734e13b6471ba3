import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDefinitionErrors } from '../../../src/definitions/errors.js';
import { evaluate, compileExpression } from '../../../src/definitions/expressions.js';
import { loadWorkflowDirectory } from '../../../src/definitions/loadWorkflows.js';

const fixtures = join(__dirname, '../../fixtures/definitions');

describe('loadWorkflowDirectory', () => {
  it('loads a directory of valid definitions that use every step kind', () => {
    const { definitions, errors } = loadWorkflowDirectory(join(fixtures, 'valid'));
    expect(formatDefinitionErrors(errors)).toBe('');
    expect([...definitions.keys()].sort()).toEqual(['compare-options', 'score-option']);
    const compare = definitions.get('compare-options');
    expect(compare?.steps.map((step) => step.kind)).toEqual(['parallel', 'map', 'approval', 'agent']);
    expect(compare?.steps[2]).toMatchObject({
      event: 'signOff',
      onTimeout: { default: { approved: false } },
    });
    expect(definitions.get('score-option')?.version).toBe('1.10');
  });

  it('fills in defaults and produces plain JSON', () => {
    const { definitions } = loadWorkflowDirectory(join(fixtures, 'valid'));
    const compare = definitions.get('compare-options');
    const scores = compare?.steps[1];
    expect(scores).toMatchObject({ kind: 'map', as: 'item', concurrency: '{{ size(input.options) }}' });
    expect(compare?.steps[3]).toMatchObject({ kind: 'agent', maxTurns: 10 });
    expect(JSON.parse(JSON.stringify(compare))).toEqual(compare);
  });

  it('reports every problem in every file, relative to the working directory, and keeps the valid files', () => {
    const { definitions, errors } = loadWorkflowDirectory(join(fixtures, 'broken'));
    expect([...definitions.keys()]).toEqual(['fine']);
    expect(formatDefinitionErrors(errors).split('\n')).toEqual([
      'test/fixtures/definitions/broken/loop-a.yaml:9:15 steps[0].workflow: calling "loop-b" creates a cycle: loop-a → loop-b → loop-a',
      'test/fixtures/definitions/broken/loop-b.yaml:9:15 steps[0].workflow: calling "loop-a" creates a cycle: loop-b → loop-a → loop-b',
      'test/fixtures/definitions/broken/misnamed.yaml:1:7 name: name "mis-named" does not match the file name (expected "misnamed")',
      'test/fixtures/definitions/broken/misnamed.yaml:11:25 steps[0].tools[1]: unknown tool "sql_query" (known: fetch_url, run_code, web_search)',
    ]);
  });

  it('accepts tools and roles registered by the app', () => {
    const { errors } = loadWorkflowDirectory(join(fixtures, 'broken'), {
      knownTools: ['web_search', 'sql_query'],
    });
    expect(errors.map((error) => error.message)).not.toContainEqual(expect.stringContaining('sql_query'));
    const restricted = loadWorkflowDirectory(join(fixtures, 'valid'), { knownRoles: ['planner', 'worker'] });
    expect(formatDefinitionErrors(restricted.errors)).toBe(
      'test/fixtures/definitions/valid/compare-options.yaml:50:11 steps[3].role: unknown role "writer" (known: critic, fast, planner, worker)',
    );
  });

  it('evaluates a map-local reference to a parallel branch output', () => {
    const { definitions } = loadWorkflowDirectory(join(fixtures, 'valid'));
    const scores = definitions.get('compare-options')?.steps[1];
    if (scores?.kind !== 'map' || scores.step.kind !== 'workflow') throw new Error('unexpected shape');
    const cons = scores.step.input.cons as string[];
    const value = evaluate(compileExpression(cons[0] ?? ''), {
      input: { options: ['a', 'b'] },
      steps: { views: { output: { pros: 'p', cons: ['a is slow', 'b is costly'] } } },
      locals: { item: 'b', index: 1 },
    });
    expect(value).toBe('b is costly');
  });
});
