import { describe, expect, it } from 'vitest';
import { errorLines, linesFor } from './errorLines.js';
import { yaml } from './yamlText.js';

describe('broken definitions: expressions, references, tools, roles, workflows', () => {
  it('points into the prompt at an expression syntax error', () => {
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
          prompt: "Summarise {{ input.topic + }} briefly"
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:10:40 steps[0].prompt: invalid expression "input.topic +": Unexpected token: EOF',
    ]);
  });

  it('finds an unclosed {{ inside a block scalar', () => {
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
          prompt: |
            Line one
            Topic: {{ input.topic
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:12:14 steps[0].prompt: "{{" without a matching "}}"',
    ]);
  });

  it('reports unknown variables and functions', () => {
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
          when: 'inputs.go'
          prompt: "{{ shout(input.topic) }}"
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:10:12 steps[0].when: unknown variable "inputs" (available: input, steps)',
      'workflows/t.yaml:11:17 steps[0].prompt: invalid expression "shout(input.topic)": found no matching overload for \'shout(dyn)\'',
    ]);
  });

  it('rejects references to unknown steps', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: b
      steps:
        - id: a
          kind: llm
          role: worker
          prompt: hi
        - id: b
          kind: llm
          role: worker
          prompt: "Use {{ steps.plan.output }}"
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:14:21 steps[1].prompt: unknown step "plan" (readable here: a)',
    ]);
  });

  it('rejects references to later steps', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: b
      steps:
        - id: a
          kind: llm
          role: worker
          prompt: "Draft from {{ steps.b.output }}"
        - id: b
          kind: llm
          role: worker
          prompt: hi
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:10:28 steps[0].prompt: steps.b is a later step (steps[1]); a step can only read the steps before it',
    ]);
  });

  it('rejects a step reading its own output', () => {
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
          when: 'steps.a.output != null'
          prompt: hi
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:10:12 steps[0].when: a step cannot read its own output (steps.a)',
    ]);
  });

  it('points nested step references at the enclosing map', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: c
      steps:
        - id: a
          kind: map
          over: '{{ input.items }}'
          step: { id: each, kind: llm, role: worker, prompt: '{{ item }}' }
        - id: c
          kind: llm
          role: writer
          prompt: '{{ steps.each.output }}'
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:14:17 steps[1].prompt: step "each" is nested inside "a"; read steps.a.output instead',
    ]);
  });

  it('allows item and index only inside a map, under their names', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: map
          over: '{{ input.items }}'
          as: question
          step: { id: each, kind: llm, role: worker, prompt: 'Answer {{ item }}' }
        - id: b
          kind: llm
          role: worker
          prompt: 'Item {{ index }}'
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:11:67 steps[0].step.prompt: unknown variable "item" (available: input, steps, question, index)',
      'workflows/t.yaml:15:22 steps[1].prompt: "index" is only available inside a map step',
    ]);
  });

  it('allows only the output field of a step', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: b
      steps:
        - id: a
          kind: llm
          role: worker
          prompt: hi
        - id: b
          kind: llm
          role: worker
          prompt: '{{ steps.a.result }}'
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:14:17 steps[1].prompt: steps.a has no field "result" (available: output)',
    ]);
  });

  it('checks parallel branch names and keeps branches from reading each other', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: '{{ steps.par.output.summary }}'
      steps:
        - id: par
          kind: parallel
          branches:
            pros: { id: pros, kind: llm, role: worker, prompt: 'Pros of {{ input.topic }}' }
            cons: { id: cons, kind: llm, role: worker, prompt: 'Cons of {{ steps.par.output.pros }}' }
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:5:13 output: parallel step "par" has no branch "summary" (branches: cons, pros)',
      'workflows/t.yaml:11:70 steps[0].branches.cons.prompt: steps.par is not finished while the steps nested in it run',
    ]);
  });

  it('checks agent tool allow-lists', () => {
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
          tools: [web_serch, run_code, run_code]
        - id: b
          kind: agent
          role: worker
          prompt: hi
          tools: []
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:11:13 steps[0].tools[0]: unknown tool "web_serch" (known: fetch_url, run_code, web_search)',
      'workflows/t.yaml:11:34 steps[0].tools[2]: tool "run_code" is listed twice',
      'workflows/t.yaml:16:12 steps[1].tools: an agent needs at least one tool (use an llm step for a single call)',
    ]);
  });

  it('checks roles and role overrides', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      roles:
        critic: anthropic:claude-opus-4-5
        writer: gpt five
      steps:
        - id: a
          kind: llm
          role: reviewer
          prompt: hi
        - id: b
          kind: llm
          role: critic
          prompt: hi
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:8:11 roles.writer: "gpt five" is neither a configured role (planner, worker, writer) nor provider:deployment',
      'workflows/t.yaml:12:11 steps[0].role: unknown role "reviewer" (known: critic, planner, worker, writer)',
    ]);
  });

  it('checks that output names a step', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: summry
      steps:
        - { id: summary, kind: llm, role: worker, prompt: hi }
    `;
    expect(errorLines(text)).toEqual(['workflows/t.yaml:5:9 output: unknown step "summry" (steps: summary)']);
  });

  it('requires condition fields to be one expression', () => {
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
          when: 'go if {{ input.go }}'
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:11:12 steps[0].when: expected one expression, either bare or as "{{ expr }}", without text around it',
    ]);
  });

  it('rejects unknown workflows and call cycles', () => {
    expect(
      linesFor([
        {
          name: 'a',
          text: yaml`
        name: a
        version: 1
        description: d
        input: { type: object }
        output: callB
        steps:
          - id: callB
            kind: workflow
            workflow: b
            input: { topic: '{{ input.topic }}' }
      `,
        },
        {
          name: 'b',
          text: yaml`
        name: b
        version: 1
        description: d
        input: { type: object }
        output: callA
        steps:
          - id: callA
            kind: workflow
            workflow: a
          - id: callMissing
            kind: workflow
            workflow: c-missing
      `,
        },
      ]),
    ).toEqual([
      'workflows/a.yaml:9:15 steps[0].workflow: calling "b" creates a cycle: a → b → a',
      'workflows/b.yaml:9:15 steps[0].workflow: calling "a" creates a cycle: b → a → b',
      'workflows/b.yaml:12:15 steps[1].workflow: unknown workflow "c-missing" (known: a, b)',
    ]);
  });

  it('rejects a workflow calling itself and checks its input templates', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: again
      steps:
        - id: again
          kind: workflow
          workflow: t
          input:
            topic: '{{ input.topic }}'
            depth: ['{{ steps.again.output }}']
    `;
    expect(errorLines(text)).toEqual([
      'workflows/t.yaml:9:15 steps[0].workflow: calling "t" creates a cycle: t → t',
      'workflows/t.yaml:12:19 steps[0].input.depth[0]: a step cannot read its own output (steps.again)',
    ]);
  });
});
