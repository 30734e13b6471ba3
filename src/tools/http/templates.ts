/**
 * An HTTP tool's templates: the same `{{ }}` CEL templates as workflows (src/definitions/expressions.ts),
 * over `args` (the model's arguments, checked against the tool's input schema) and `call` (`runId`,
 * `stepId`, `toolUseId`); the `extract` expression sees `response` and `status`.
 */
import { Environment } from '@marcbachmann/cel-js';
import {
  compileExpression,
  compileTemplate,
  ENVIRONMENT_OPTIONS,
  evaluate,
  expressionsOf,
  ExpressionSyntaxError,
  firstLine,
  type CompiledTemplate,
} from '../../definitions/expressions.js';

export const REQUEST_VARIABLES = ['args', 'call'] as const;
export const EXTRACT_VARIABLES = ['response', 'status'] as const;

export interface TemplateProblem {
  readonly message: string;
  /** Offset inside the template text. */
  readonly offset: number;
}

const checkers = new Map<string, Environment>();

function checkerFor(variables: readonly string[]): Environment {
  const key = variables.join(',');
  let environment = checkers.get(key);
  if (!environment) {
    environment = new Environment(ENVIRONMENT_OPTIONS);
    for (const name of variables) environment.registerVariable(name, 'dyn');
    checkers.set(key, environment);
  }
  return environment;
}

/** Compiles and checks one template (or, with `expression`, one bare-or-braced expression). */
export function compileChecked(
  source: string,
  variables: readonly string[],
  expression = false,
): { template: CompiledTemplate } | { problem: TemplateProblem } {
  let template: CompiledTemplate;
  try {
    template = expression ? compileExpression(source) : compileTemplate(source);
  } catch (error) {
    if (error instanceof ExpressionSyntaxError)
      return { problem: { message: error.message, offset: error.offset } };
    throw error;
  }
  const checker = checkerFor(variables);
  for (const part of expressionsOf(template)) {
    const result = checker.check(part.text);
    if (result.valid || !result.error) continue;
    const message = firstLine(result.error.message);
    const unknown = /^Unknown variable: (\w+)$/.exec(message)?.[1];
    return {
      problem: {
        message: unknown
          ? `unknown variable "${unknown}" (available: ${variables.join(', ')})`
          : `invalid expression "${part.text}": ${message}`,
        offset: part.offset + (result.error.node?.start ?? 0),
      },
    };
  }
  return { template };
}

/** Evaluates with the given variables in scope; throws ExpressionEvaluationError. */
export function evaluateWith(template: CompiledTemplate, variables: Record<string, unknown>): unknown {
  return evaluate(template, { input: null, steps: {}, locals: variables });
}

/** A template value as text: strings as they are, anything else as JSON. */
export function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The URL with each expression's value percent-encoded (`encodeURIComponent`), so a model's argument
 * can add neither a path segment, a query parameter nor a fragment.
 */
export function renderUrl(template: CompiledTemplate, variables: Record<string, unknown>): string {
  return template.parts
    .map((part) =>
      typeof part === 'string'
        ? part
        : encodeURIComponent(
            asText(evaluateWith({ source: part.text, parts: [part], raw: true }, variables)),
          ),
    )
    .join('');
}

/** The literal start of a URL template up to its first `{{`: it must fix the scheme, host and port. */
export function literalOrigin(template: CompiledTemplate): string | undefined {
  const first = template.parts[0];
  const prefix = typeof first === 'string' ? first : '';
  const whole = template.parts.length === 1 && typeof first === 'string';
  const match = /^(https?:\/\/[^/?#{}\s]+)([/?#]|$)/i.exec(prefix);
  if (!match) return undefined;
  // Without a path separator the next expression could still extend the host (`http://api{{ x }}`).
  return whole || match[2] !== '' ? match[1] : undefined;
}
