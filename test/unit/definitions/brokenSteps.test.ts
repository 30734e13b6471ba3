import { describe, expect, it } from 'vitest';
import { errorLines } from './errorLines.js';
import { yaml } from './yamlText.js';

describe('broken definitions: schemas, durations, map, parallel, budget', () => {
  it("checks an agent step's input files and tool limits", () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: agent
          role: worker
          prompt: hi
          tools: [run_code]
          files:
            ../etc/passwd: '{{ input.x }}'
            data.csv: '{{ steps.later.output }}'
          toolLimits: { timeoutMs: -5, colour: red }
        - { id: later, kind: llm, role: worker, prompt: hi }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:13:7 steps[0].files["../etc/passwd"]: file names are 1-100 letters, digits, ".", "_" or "-"',
      'workflows/t.yaml:14:21 steps[0].files["data.csv"]: steps.later is a later step (steps[1]); a step can only read the steps before it',
      'workflows/t.yaml:15:30 steps[0].toolLimits.timeoutMs: must be greater than 0',
      'workflows/t.yaml:15:34 steps[0].toolLimits.colour: unknown key "colour"',
    ]);
  });

  it('checks the input JSON Schema against the meta-schema', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input:
        type: object
        properties:
          topic: { type: strin }
          count: { type: integer, minimum: "zero" }
      output: a
      steps:
        - { id: a, kind: llm, role: worker, prompt: hi }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:7:20 input.properties.topic.type: invalid JSON Schema: must be one of array, boolean, integer, null, number, object, string',
      'workflows/t.yaml:8:38 input.properties.count.minimum: invalid JSON Schema: must be number',
    ]);
  });

  it('requires the input schema to describe an object', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: string }
      output: a
      steps:
        - { id: a, kind: llm, role: worker, prompt: hi }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:4:8 input: the schema must describe an object (type: object at the top)',
    ]);
  });

  it('rejects unknown keywords in an output schema', () => {
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
          outputSchema:
            type: object
            properties:
              title: { tpye: string }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:12:7 steps[0].outputSchema: invalid JSON Schema: strict mode: unknown keyword: "tpye"',
    ]);
  });

  it('requires an output schema to describe an object', () => {
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
          outputSchema:
            type: array
            items: { type: string }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:12:7 steps[0].outputSchema: the schema must describe an object (type: object at the top)',
    ]);
  });

  it('rejects bad, zero and calendar-dependent ISO-8601 durations', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: approval
          timeout: P1X
        - id: b
          kind: approval
          timeout: PT0S
        - id: c
          kind: approval
          timeout: P1M
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:9:14 steps[0].timeout: must be a positive ISO-8601 duration in weeks, days, hours, minutes or seconds, e.g. PT30M or P1D',
      'workflows/t.yaml:12:14 steps[1].timeout: must be a positive ISO-8601 duration in weeks, days, hours, minutes or seconds, e.g. PT30M or P1D',
      'workflows/t.yaml:15:14 steps[2].timeout: must be a positive ISO-8601 duration in weeks, days, hours, minutes or seconds, e.g. PT30M or P1D',
    ]);
  });

  it('checks onTimeout', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: approval
          timeout: PT30M
          onTimeout: retry
        - id: b
          kind: approval
          timeout: PT30M
          onTimeout: { defualt: 1 }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:10:16 steps[0].onTimeout: must be fail, continue, or { default: <value> }',
      'workflows/t.yaml:14:16 steps[1].onTimeout: must be fail, continue, or { default: <value> }',
    ]);
  });

  it('checks map concurrency and the item variable name', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: map
          over: '{{ [1, 2] }}'
          as: input
          concurrency: 0
          step: { id: b, kind: llm, role: worker, prompt: '{{ index }}' }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:10:9 steps[0].as: "input" is already a variable; pick another name for the item',
      'workflows/t.yaml:11:18 steps[0].concurrency: concurrency must be at least 1',
    ]);
  });

  it('limits the kinds a map can run per item', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: map
          over: '{{ [1, 2] }}'
          step: { id: b, kind: approval, timeout: P1D }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:10:26 steps[0].step.kind: unknown step kind "approval" (allowed here: agent, llm, workflow)',
    ]);
  });

  it('checks parallel branches', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: parallel
          branches: {}
        - id: b
          kind: parallel
          branches:
            Bad-Name: { id: c, kind: llm, role: worker, prompt: hi }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:9:15 steps[0].branches: needs at least one branch',
      'workflows/t.yaml:13:7 steps[1].branches["Bad-Name"]: must start with a lowercase letter and use only letters, digits and _',
    ]);
  });

  it('checks the budget strictly', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      budget:
        maxCostUsd: -1
        maxTokenz: 10
      steps:
        - { id: a, kind: llm, role: worker, prompt: hi }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:7:15 budget.maxCostUsd: maxCostUsd must be greater than 0',
      'workflows/t.yaml:8:3 budget.maxTokenz: unknown key "maxTokenz" (allowed: maxCostUsd, maxTokens)',
    ]);
  });

  it('bounds maxTurns by the configured limit', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: agent
          role: worker
          prompt: hi
          tools: [run_code]
          maxTurns: 25
        - id: b
          kind: agent
          role: worker
          prompt: hi
          tools: [run_code]
          maxTurns: 2.5
    `;
    expect(errorLines(text, { maxAgentTurns: 20 })).toEqual([
      'workflows/t.yaml:12:15 steps[0].maxTurns: maxTurns must be at most 20',
      'workflows/t.yaml:18:15 steps[1].maxTurns: maxTurns must be a whole number',
    ]);
  });

  it('explains that expressions must be quoted in YAML', () => {
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
          when: {{ input.go }}
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:11:11 steps[0].when: quote the expression: when: "{{ ... }}" (unquoted, YAML reads {{ }} as a mapping)',
    ]);
  });
});
