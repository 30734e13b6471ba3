import { describe, expect, it } from 'vitest';
import { errorLines } from './errorLines.js';
import { yaml } from './yamlText.js';

describe('broken definitions: structure', () => {
  it('reports YAML syntax errors', () => {
    const text = yaml`
      name: t
      version: 1
      description: "unclosed
      steps: []
    `;
    expect(errorLines(text)).toEqual(['workflows/t.yaml:5:1 YAML syntax: Missing closing "quote']);
  });

  it('reports duplicate YAML keys', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: llm
          role: worker
          prompt: hi
          prompt: again
    `;
    expect(errorLines(text)).toEqual(['workflows/t.yaml:11:5 YAML syntax: Map keys must be unique']);
  });

  it('rejects a file that is not a mapping', () => {
    const text = yaml`
      - just
      - a list
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:1:1 a workflow definition must be a YAML mapping (name:, version:, steps: …)',
    ]);
  });

  it('requires a kebab-case name equal to the file name', () => {
    const text = yaml`
      name: Research_Report
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - { id: a, kind: llm, role: worker, prompt: hi }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:1:7 name: must be kebab-case, e.g. research-report',
      'workflows/t.yaml:1:7 name: name "Research_Report" does not match the file name (expected "t")',
    ]);
  });

  it('explains that versions like 1.5 need quotes', () => {
    const text = yaml`
      name: t
      version: 1.5
      description: d
      input: { type: object }
      output: a
      steps:
        - { id: a, kind: llm, role: worker, prompt: hi }
    `;
    expect(errorLines(text)).toEqual([
      "workflows/t.yaml:2:10 version: must be a whole number or a version string such as '1.2.0' (quote versions like '1.10': YAML reads them as numbers)",
    ]);
  });

  it('reports missing and unknown top-level keys together', () => {
    const text = yaml`
      name: t
      version: 1
      input: { type: object }
      output: a
      stepz:
        - { id: a, kind: llm, role: worker, prompt: hi }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:1:1 missing required key "description"',
      'workflows/t.yaml:1:1 missing required key "steps"',
      'workflows/t.yaml:5:1 stepz: unknown key "stepz" (allowed: name, version, description, input, output, steps, budget, roles)',
    ]);
  });

  it('requires at least one step', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: '{{ input }}'
      steps: []
    `;
    expect(errorLines(text)).toEqual(['workflows/t.yaml:6:8 steps: needs at least one step']);
  });

  it('rejects unknown step kinds', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: llm
          role: worker
          prompt: hi
        - id: b
          kind: loop
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:12:11 steps[1].kind: unknown step kind "loop" (known: agent, approval, llm, map, parallel, workflow)',
    ]);
  });

  it('requires a step kind', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          role: worker
          prompt: hi
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:7:5 steps[0]: missing required key "kind" (one of: agent, approval, llm, map, parallel, workflow)',
    ]);
  });

  it('rejects unknown keys in a step and names the allowed ones', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: llm
          role: worker
          promt: hi
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:7:5 steps[0]: missing required key "prompt"',
      'workflows/t.yaml:10:5 steps[0].promt: unknown key "promt" (allowed: id, when, kind, role, system, prompt, attach, outputSchema, maxTokens, thinking, effort, reasoningEffort, batch)',
    ]);
  });

  it('checks the step id pattern', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: '{{ input }}'
      steps:
        - id: Plan-1
          kind: llm
          role: worker
          prompt: hi
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:7:9 steps[0].id: must start with a lowercase letter and use only letters, digits and _',
    ]);
  });

  it('rejects duplicate step ids, nested ones included', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: llm
          role: worker
          prompt: hi
        - id: b
          kind: map
          over: '{{ [1, 2] }}'
          step:
            id: a
            kind: llm
            role: worker
            prompt: '{{ item }}'
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:15:11 steps[1].step.id: duplicate step id "a" (first used at steps[0])',
    ]);
  });

  it('rejects CEL reserved words as step ids and item names', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: '{{ input }}'
      steps:
        - id: in
          kind: llm
          role: worker
          prompt: hi
        - id: b
          kind: map
          over: '{{ [1] }}'
          as: if
          step: { id: c, kind: llm, role: worker, prompt: hi }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:7:9 steps[0].id: is a reserved word in expressions; pick another name',
      'workflows/t.yaml:14:9 steps[1].as: is a reserved word in expressions; pick another name',
    ]);
  });
});
