import { describe, expect, it } from 'vitest';
import { validateWorkflowInput } from '../../../src/definitions/inputValidation.js';
import type { WorkflowDefinition } from '../../../src/definitions/schema.js';

const definition: WorkflowDefinition = {
  name: 'research-report',
  version: 1,
  description: 'd',
  output: 'plan',
  steps: [{ id: 'plan', kind: 'llm', role: 'planner', prompt: '{{ input.topic }}' }],
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['topic'],
    properties: {
      topic: { type: 'string', minLength: 3 },
      questions: { type: 'integer', minimum: 1, maximum: 16, default: 4 },
      sources: { type: 'array', items: { type: 'string', format: 'uri' } },
    },
  },
};

describe('validateWorkflowInput', () => {
  it('accepts valid input and returns a copy with defaults filled in', () => {
    const input = { topic: 'Tides' };
    expect(validateWorkflowInput(definition, input)).toEqual({
      ok: true,
      value: { topic: 'Tides', questions: 4 },
    });
    expect(input).toEqual({ topic: 'Tides' });
  });

  it('reports every problem with a JSON pointer to it', () => {
    const result = validateWorkflowInput(definition, {
      questions: 40,
      sources: ['https://example.org', 'not a url'],
      colour: 'red',
    });
    expect(result).toEqual({
      ok: false,
      problems: [
        { path: '/topic', message: 'is required' },
        { path: '/colour', message: 'is not allowed here' },
        { path: '/questions', message: 'must be <= 16' },
        { path: '/sources/1', message: 'must match format "uri"' },
      ],
    });
  });

  it('reports wrong types and a body that is not an object', () => {
    expect(validateWorkflowInput(definition, { topic: 42 })).toEqual({
      ok: false,
      problems: [{ path: '/topic', message: 'must be string' }],
    });
    expect(validateWorkflowInput(definition, [])).toEqual({
      ok: false,
      problems: [{ path: '', message: 'must be object' }],
    });
    expect(validateWorkflowInput(definition, undefined)).toMatchObject({ ok: false });
  });

  it('validates for a definition that crossed a JSON boundary (cached by schema text)', () => {
    const copy = JSON.parse(JSON.stringify(definition)) as WorkflowDefinition;
    expect(validateWorkflowInput(copy, { topic: 'Tides', questions: 2 })).toEqual({
      ok: true,
      value: { topic: 'Tides', questions: 2 },
    });
  });
});
