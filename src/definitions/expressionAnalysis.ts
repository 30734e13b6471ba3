/**
 * Load-time analysis of compiled templates: unknown variables and functions, and which steps an
 * expression reads. Used by the definition checker, never at run time.
 */
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import {
  ENVIRONMENT_OPTIONS,
  expressionsOf,
  firstLine,
  SCOPE_ROOTS,
  type CompiledTemplate,
} from './expressions.js';

const checkers = new Map<string, Environment>();

function checkerFor(locals: readonly string[]): Environment {
  const key = [...locals].sort().join(',');
  let environment = checkers.get(key);
  if (!environment) {
    environment = new Environment(ENVIRONMENT_OPTIONS)
      .registerVariable('input', 'dyn')
      .registerVariable('steps', 'map<string, dyn>');
    for (const name of locals) {
      // Names CEL cannot take (`as: input`, `as: if`) are reported against `as`; check the rest anyway.
      if (environment.hasVariable(name)) continue;
      try {
        environment.registerVariable(name, name === 'index' ? 'int' : 'dyn');
      } catch {
        continue;
      }
    }
    checkers.set(key, environment);
  }
  return environment;
}

export interface ExpressionProblem {
  readonly message: string;
  readonly offset: number;
}

function describeUnknownVariable(name: string, locals: readonly string[]): string {
  if (locals.length === 0 && (name === 'item' || name === 'index')) {
    return `"${name}" is only available inside a map step`;
  }
  return `unknown variable "${name}" (available: ${[...SCOPE_ROOTS, ...locals].join(', ')})`;
}

/**
 * Load-time check: unknown variables and functions, wrong argument counts. `locals` are the
 * variables a surrounding map step introduces (e.g. `item`, `index`).
 */
export function checkTemplate(template: CompiledTemplate, locals: readonly string[]): ExpressionProblem[] {
  const checker = checkerFor(locals);
  return expressionsOf(template).flatMap((expression) => {
    const result = checker.check(expression.text);
    if (result.valid || !result.error) return [];
    const message = firstLine(result.error.message);
    const unknownVariable = /^Unknown variable: (\w+)$/.exec(message)?.[1];
    return [
      {
        message: unknownVariable
          ? describeUnknownVariable(unknownVariable, locals)
          : `invalid expression "${expression.text}": ${message}`,
        offset: expression.offset + (result.error.node?.start ?? 0),
      },
    ];
  });
}

export interface StepReference {
  /** The step id after `steps.`. */
  readonly step: string;
  /** The member read from the step result (`output`), when there is one. */
  readonly field?: string;
  /** The member read from the output (`steps.par.output.<member>`), when there is one. */
  readonly member?: string;
  /** Offset inside the template source. */
  readonly offset: number;
}

function memberName(node: ASTNode): string | undefined {
  if (node.op === '.' || node.op === '.?') return node.args[1];
  if ((node.op === '[]' || node.op === '[?]') && node.args[1].op === 'value') {
    const key = node.args[1].args;
    return typeof key === 'string' ? key : undefined;
  }
  return undefined;
}

function isMemberAccess(node: ASTNode): node is Extract<ASTNode, { op: '.' | '.?' | '[]' | '[?]' }> {
  return node.op === '.' || node.op === '.?' || node.op === '[]' || node.op === '[?]';
}

function childrenOf(node: ASTNode): ASTNode[] {
  const children: ASTNode[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object' && 'op' in value) children.push(value as ASTNode);
  };
  visit(node.args);
  return children;
}

/** Every `steps.<id>...` read in the template, with the members read after it. */
export function stepReferences(template: CompiledTemplate): StepReference[] {
  const references: StepReference[] = [];
  for (const expression of expressionsOf(template)) {
    const walk = (node: ASTNode, parents: readonly ASTNode[]): void => {
      if (isMemberAccess(node) && node.args[0].op === 'id' && node.args[0].args === 'steps') {
        const step = memberName(node);
        if (step !== undefined) {
          const fieldNode = parents[0];
          const field = fieldNode && isMemberAccess(fieldNode) ? memberName(fieldNode) : undefined;
          const memberNode = parents[1];
          const member = memberNode && isMemberAccess(memberNode) ? memberName(memberNode) : undefined;
          references.push({ step, field, member, offset: expression.offset + node.start });
        }
      }
      for (const child of childrenOf(node)) walk(child, [node, ...parents]);
    };
    walk(expression.ast, []);
  }
  return references;
}
