/**
 * Template and expression evaluation for workflow definitions.
 *
 * Expressions are CEL (Common Expression Language) evaluated by `@marcbachmann/cel-js`: evaluation is
 * synchronous (the orchestrator is a synchronous generator), it compiles to an AST walked by an
 * interpreter (no `eval`/`new Function`), member access only reaches own keys of the data we pass in
 * (`constructor`, `__proto__`, `prototype` are "No such key"), there are no globals and no clock or
 * randomness, and the library has no dependencies. See README.md in this folder for the comparison.
 *
 * This module runs inside orchestrators: it must stay free of I/O, Node built-ins, Date.now and
 * Math.random.
 */
import { Environment, Optional, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';

/** Names every expression can use, besides the locals a `map` step introduces. */
export const SCOPE_ROOTS = ['input', 'steps'] as const;

/** What a finished step exposes to later expressions as `steps.<id>`. */
export const STEP_RESULT_FIELDS = ['output'] as const;

export interface StepResult {
  readonly output: unknown;
}

/**
 * The data an expression sees. Steps that were skipped (their `when` was false) are absent from
 * `steps`, so `has(steps.x)` tells whether `x` ran. `locals` carries a map step's item variable
 * (named by `as`, default `item`) and `index`.
 */
export interface ExpressionScope {
  readonly input: unknown;
  readonly steps: Readonly<Record<string, StepResult>>;
  readonly locals?: Readonly<Record<string, unknown>>;
}

export interface CompiledExpression {
  /** The CEL source, without the surrounding `{{ }}`. */
  readonly text: string;
  /** Where `text` starts inside the template source. */
  readonly offset: number;
  readonly ast: ASTNode;
  readonly run: ParseResult;
}

export interface CompiledTemplate {
  readonly source: string;
  /** Literal text and expressions in order. */
  readonly parts: readonly (string | CompiledExpression)[];
  /** True when the template is exactly one `{{ expr }}`: evaluation yields the raw value. */
  readonly raw: boolean;
}

export class ExpressionSyntaxError extends Error {
  constructor(
    message: string,
    /** Offset of the problem inside the template source. */
    readonly offset: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ExpressionEvaluationError extends Error {
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(`${message} (in {{ ${expression} }})`);
    this.name = new.target.name;
  }
}

export const ENVIRONMENT_OPTIONS = {
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
  limits: { maxAstNodes: 2_000, maxDepth: 64 },
} as const;

/** Parses and evaluates; unknown variables are caught at load time (`checkTemplate`), not here. */
const runtime = new Environment({ ...ENVIRONMENT_OPTIONS, unlistedVariablesAreDyn: true });

const TEMPLATE_CACHE_LIMIT = 2_000;
const templateCache = new Map<string, CompiledTemplate>();
const EXPRESSION_OPEN = '{{';
const EXPRESSION_CLOSE = '}}';

export function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function compileExpressionAt(text: string, offset: number): CompiledExpression {
  if (text.trim() === '') throw new ExpressionSyntaxError('empty expression', offset);
  try {
    const run = runtime.parse(text);
    return { text, offset, ast: run.ast, run };
  } catch (error) {
    const position = (error as { node?: { start?: number } }).node?.start ?? 0;
    throw new ExpressionSyntaxError(
      `invalid expression "${text}": ${firstLine((error as Error).message)}`,
      offset + position,
    );
  }
}

/** Index of the `}}` closing an expression, skipping braces inside CEL map literals and strings. */
function closingBraces(source: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < source.length; i++) {
    const char = source[i];
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '{') {
      depth++;
    } else if (char === '}') {
      if (depth === 0 && source[i + 1] === '}') return i;
      depth = Math.max(0, depth - 1);
    }
  }
  return -1;
}

function parseTemplate(source: string): CompiledTemplate {
  const parts: (string | CompiledExpression)[] = [];
  let cursor = 0;
  while (cursor < source.length) {
    const open = source.indexOf(EXPRESSION_OPEN, cursor);
    if (open === -1) {
      parts.push(source.slice(cursor));
      break;
    }
    if (open > cursor) parts.push(source.slice(cursor, open));
    const close = closingBraces(source, open + EXPRESSION_OPEN.length);
    if (close === -1) throw new ExpressionSyntaxError('"{{" without a matching "}}"', open);
    const inner = source.slice(open + EXPRESSION_OPEN.length, close);
    const leading = inner.length - inner.trimStart().length;
    parts.push(compileExpressionAt(inner.trim(), open + EXPRESSION_OPEN.length + leading));
    cursor = close + EXPRESSION_CLOSE.length;
  }
  const raw = parts.length === 1 && typeof parts[0] !== 'string';
  return { source, parts, raw };
}

function remember(key: string, compile: () => CompiledTemplate): CompiledTemplate {
  const cached = templateCache.get(key);
  if (cached) return cached;
  const compiled = compile();
  if (templateCache.size >= TEMPLATE_CACHE_LIMIT) templateCache.clear();
  templateCache.set(key, compiled);
  return compiled;
}

/**
 * Parses a template such as `Research {{ input.topic }}` once. A template that is exactly one
 * `{{ expr }}` evaluates to the raw value; anything else evaluates to a string.
 * @throws ExpressionSyntaxError
 */
export function compileTemplate(source: string): CompiledTemplate {
  return remember(`t:${source}`, () => parseTemplate(source));
}

/**
 * Parses an expression field (`when`, `over`, `output`, `concurrency`): either bare CEL
 * (`input.n > 2`) or one `{{ expr }}`. Always evaluates to the raw value.
 * @throws ExpressionSyntaxError
 */
export function compileExpression(source: string): CompiledTemplate {
  return remember(`e:${source}`, () => {
    const trimmed = source.trim();
    if (trimmed.includes(EXPRESSION_OPEN)) {
      const template = parseTemplate(trimmed);
      if (!template.raw) {
        throw new ExpressionSyntaxError(
          'expected one expression, either bare or as "{{ expr }}", without text around it',
          0,
        );
      }
      const leading = source.length - source.trimStart().length;
      const [expression] = expressionsOf(template);
      return {
        ...template,
        source,
        parts: expression ? [{ ...expression, offset: expression.offset + leading }] : [],
      };
    }
    const leading = source.length - source.trimStart().length;
    return { source, parts: [compileExpressionAt(trimmed, leading)], raw: true };
  });
}

export function expressionsOf(template: CompiledTemplate): CompiledExpression[] {
  return template.parts.filter((part): part is CompiledExpression => typeof part !== 'string');
}

function toJsonValue(value: unknown, expression: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new ExpressionEvaluationError(`result ${value} is not a finite number`, expression);
    return value;
  }
  if (typeof value === 'bigint') {
    const asNumber = Number(value);
    if (!Number.isSafeInteger(asNumber)) {
      throw new ExpressionEvaluationError(`integer ${value} is too large for JSON`, expression);
    }
    return asNumber;
  }
  if (value instanceof Optional) return value.hasValue() ? toJsonValue(value.value(), expression) : null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((element) => toJsonValue(element, expression));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, toJsonValue(v, expression)]));
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === null) {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, toJsonValue(v, expression)]));
  }
  throw new ExpressionEvaluationError('result is not a JSON value', expression);
}

function contextOf(scope: ExpressionScope): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(scope.locals ?? {})) {
    // CEL keeps int and double apart; a list position is an int.
    context[name] = name === 'index' && Number.isSafeInteger(value) ? BigInt(value as number) : value;
  }
  context.input = scope.input;
  context.steps = scope.steps;
  return context;
}

function evaluateExpression(expression: CompiledExpression, context: Record<string, unknown>): unknown {
  let result: unknown;
  try {
    result = expression.run(context);
  } catch (error) {
    throw new ExpressionEvaluationError(firstLine((error as Error).message), expression.text);
  }
  if (result instanceof Promise) {
    throw new ExpressionEvaluationError('expression did not evaluate synchronously', expression.text);
  }
  return toJsonValue(result, expression.text);
}

/**
 * Evaluates a compiled template against `scope`. Pure and deterministic: same template and scope,
 * same result. Returns a JSON value (raw templates) or a string (interpolation; non-string values
 * are JSON-encoded).
 * @throws ExpressionEvaluationError
 */
export function evaluate(template: CompiledTemplate, scope: ExpressionScope): unknown {
  const context = contextOf(scope);
  if (template.raw) return evaluateExpression(template.parts[0] as CompiledExpression, context);
  return template.parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const value = evaluateExpression(part, context);
      return typeof value === 'string' ? value : JSON.stringify(value);
    })
    .join('');
}

/**
 * Evaluates a `when` condition. Anything but a boolean is an error rather than "truthy", so a typo
 * such as `steps.x.output.confidense` cannot silently skip or run a step.
 * @throws ExpressionEvaluationError
 */
export function evaluateCondition(template: CompiledTemplate, scope: ExpressionScope): boolean {
  const value = evaluate(template, scope);
  if (typeof value !== 'boolean') {
    throw new ExpressionEvaluationError(
      `condition must be true or false, got ${JSON.stringify(value)}`,
      template.source.trim(),
    );
  }
  return value;
}

/** Evaluates every string inside a JSON value as a template (for `workflow` step inputs). */
export function evaluateTemplates(value: unknown, scope: ExpressionScope): unknown {
  if (typeof value === 'string') return evaluate(compileTemplate(value), scope);
  if (Array.isArray(value)) return value.map((element) => evaluateTemplates(element, scope));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, element]) => [key, evaluateTemplates(element, scope)]),
    );
  }
  return value;
}
