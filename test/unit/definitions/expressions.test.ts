import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTemplate, stepReferences } from '../../../src/definitions/expressionAnalysis.js';
import {
  compileExpression,
  compileTemplate,
  evaluate,
  evaluateCondition,
  evaluateTemplates,
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  type ExpressionScope,
} from '../../../src/definitions/expressions.js';

const scope: ExpressionScope = {
  input: { topic: 'tides', n: 4, flag: true, list: [1, 2, 3], nested: { deep: 'yes' } },
  steps: {
    plan: { output: { questions: ['Why?', 'How?'], confidence: 0.65 } },
    draft: { output: 'text' },
  },
};

const run = (template: string, at: ExpressionScope = scope): unknown =>
  evaluate(compileTemplate(template), at);

describe('templates', () => {
  it('returns the raw value when the template is exactly one expression', () => {
    expect(run('{{ steps.plan.output.questions }}')).toEqual(['Why?', 'How?']);
    expect(run('{{ input.nested }}')).toEqual({ deep: 'yes' });
    expect(run('{{input.n}}')).toBe(4);
    expect(run('{{ input.flag }}')).toBe(true);
  });

  it('interpolates strings as they are and other values as JSON', () => {
    expect(run('Topic: {{ input.topic }}!')).toBe('Topic: tides!');
    expect(run('Q: {{ steps.plan.output.questions }} n={{ input.n }}')).toBe('Q: ["Why?","How?"] n=4');
    expect(run('{{ input.topic }} and {{ input.nested }}')).toBe('tides and {"deep":"yes"}');
    expect(run('  {{ input.n }} ')).toBe('  4 ');
  });

  it('leaves text without placeholders alone', () => {
    expect(run('Plain text, { braces } too.')).toBe('Plain text, { braces } too.');
  });

  it('turns CEL integers into JSON numbers', () => {
    expect(run('{{ 1 + 2 }}')).toBe(3);
    expect(run('{{ size(input.list) }}')).toBe(3);
    expect(run('{{ [1, 2.5, "x"] }}')).toEqual([1, 2.5, 'x']);
    expect(run('{{ index + 1 }}', { ...scope, locals: { item: 'a', index: 0 } })).toBe(1);
  });

  it('supports comparison, boolean logic, ternaries, length and optional fields', () => {
    expect(run('{{ steps.plan.output.confidence < 0.7 && input.flag }}')).toBe(true);
    expect(run('{{ size(steps.plan.output.questions) >= 2 ? "many" : "few" }}')).toBe('many');
    expect(run('{{ input.?missing.orValue("fallback") }}')).toBe('fallback');
    expect(run('{{ has(steps.review) ? steps.review.output : steps.draft.output }}')).toBe('text');
    expect(run('{{ input.list.map(x, x * 2.0) }}')).toEqual([2, 4, 6]);
    expect(run('{{ input.topic.upperAscii() }}')).toBe('TIDES');
  });

  it('handles braces of map literals and strings inside an expression', () => {
    expect(run('{{ {"a": {"b": input.topic}} }}')).toEqual({ a: { b: 'tides' } });
    expect(run('{{ "}}" + input.topic }}')).toBe('}}tides');
  });

  it('exposes map locals under their names', () => {
    const local = { ...scope, locals: { question: 'Why?', index: 1 } };
    expect(run('{{ index + 1 }}: {{ question }}', local)).toBe('2: Why?');
  });

  it('evaluates every string inside a workflow input object', () => {
    expect(
      evaluateTemplates(
        { topic: '{{ input.topic }}', count: '{{ input.n }}', fixed: 3, list: ['x {{ input.n }}'] },
        scope,
      ),
    ).toEqual({
      topic: 'tides',
      count: 4,
      fixed: 3,
      list: ['x 4'],
    });
  });

  it('is deterministic and returns fresh JSON values', () => {
    const template = compileTemplate('{{ {"t": input.topic, "at": timestamp("2024-01-01T00:00:00Z")} }}');
    const first = evaluate(template, scope);
    expect(first).toEqual({ t: 'tides', at: '2024-01-01T00:00:00.000Z' });
    expect(evaluate(template, scope)).toEqual(first);
    expect(compileTemplate('{{ input.topic }}')).toBe(compileTemplate('{{ input.topic }}'));
  });

  it('rejects results that are not JSON', () => {
    expect(() => run('{{ 1.0 / 0.0 }}')).toThrow('result Infinity is not a finite number');
    expect(() => run('{{ b"bytes" }}')).toThrow('result is not a JSON value');
  });
});

describe('expression fields', () => {
  it('accept bare CEL or one {{ expr }}', () => {
    expect(evaluate(compileExpression('input.n > 3'), scope)).toBe(true);
    expect(evaluate(compileExpression('{{ input.n > 3 }}'), scope)).toBe(true);
    expect(() => compileExpression('when {{ input.flag }}')).toThrow(ExpressionSyntaxError);
  });

  it('conditions must be booleans', () => {
    expect(evaluateCondition(compileExpression('steps.plan.output.confidence < 0.7'), scope)).toBe(true);
    expect(evaluateCondition(compileExpression('has(steps.missing)'), scope)).toBe(false);
    expect(() => evaluateCondition(compileExpression('input.topic'), scope)).toThrow(
      'condition must be true or false, got "tides" (in {{ input.topic }})',
    );
  });
});

describe('syntax errors', () => {
  it('are reported at compile time with the offset of the problem', () => {
    const attempt = (text: string) => {
      try {
        compileTemplate(text);
      } catch (error) {
        expect(error).toBeInstanceOf(ExpressionSyntaxError);
        return {
          message: (error as ExpressionSyntaxError).message,
          offset: (error as ExpressionSyntaxError).offset,
        };
      }
      throw new Error(`compiled: ${text}`);
    };
    expect(attempt('Hi {{ input. }}')).toEqual({
      message: 'invalid expression "input.": Expected IDENTIFIER, got EOF',
      offset: 12,
    });
    expect(attempt('Hi {{ }}')).toEqual({ message: 'empty expression', offset: 6 });
    expect(attempt('Hi {{ input.topic')).toEqual({ message: '"{{" without a matching "}}"', offset: 3 });
    expect(attempt('{{ a ==== b }}').message).toMatch(/^invalid expression "a ==== b"/);
  });
});

describe('safety', () => {
  const blocked = [
    'input.constructor',
    'input.__proto__',
    'input["constructor"]',
    'input.topic.constructor',
    'input.list.constructor',
    'steps.constructor',
    'steps.plan.prototype',
    'input.toString',
    'input.nested.hasOwnProperty',
  ];

  it.each(blocked)('cannot reach %s', (expression) => {
    expect(() => run(`{{ ${expression} }}`)).toThrow(ExpressionEvaluationError);
    expect(() => run(`{{ ${expression} }}`)).toThrow(/No such key|Cannot index/);
  });

  it('reads an own "__proto__" key of JSON data as data, without touching prototypes', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    expect(run('{{ input.__proto__.polluted }}', { ...scope, input })).toBe(true);
    expect(run('{{ {"__proto__": {"polluted": true}} }}')).toEqual({});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each(['process', 'globalThis', 'require', 'Function', 'this', 'console', 'Date', 'Math'])(
    'has no global %s',
    (name) => {
      expect(() => run(`{{ ${name} }}`)).toThrow(/Unknown variable|Unexpected|Expected/);
    },
  );

  it('has no clock or randomness functions', () => {
    for (const call of ['now()', 'random()', 'Date.now()', 'Math.random()']) {
      expect(checkTemplate(compileTemplate(`{{ ${call} }}`), [])).not.toEqual([]);
    }
  });

  it('keeps the evaluation module free of I/O and nondeterminism', () => {
    const source = readFileSync(join(__dirname, '../../../src/definitions/expressions.ts'), 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(
      /from 'node:|require\(|Date\.now\(|new Date\(|Math\.random\(|process\.|eval\(|new Function/,
    );
  });
});

describe('load-time checks', () => {
  it('know the variables in scope', () => {
    expect(checkTemplate(compileTemplate('{{ input.topic }} {{ steps.plan.output }}'), [])).toEqual([]);
    expect(checkTemplate(compileTemplate('{{ item }} {{ index }}'), ['item', 'index'])).toEqual([]);
    expect(checkTemplate(compileTemplate('x {{ item }}'), [])).toEqual([
      { message: '"item" is only available inside a map step', offset: 5 },
    ]);
    expect(checkTemplate(compileTemplate('{{ inptu.topic }}'), [])).toEqual([
      { message: 'unknown variable "inptu" (available: input, steps)', offset: 3 },
    ]);
  });

  it('list the steps an expression reads', () => {
    const template = compileTemplate(
      '{{ steps.plan.output.questions }} {{ has(steps.review) }} {{ steps["par"].output.pros }}',
    );
    expect(stepReferences(template)).toEqual([
      { step: 'plan', field: 'output', member: 'questions', offset: 3 },
      { step: 'review', field: undefined, member: undefined, offset: 41 },
      { step: 'par', field: 'output', member: 'pros', offset: 61 },
    ]);
  });
});
