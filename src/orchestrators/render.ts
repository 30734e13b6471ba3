/** Templates and conditions of a step, evaluated over its scope. */
import {
  compileExpression,
  compileTemplate,
  evaluate,
  evaluateCondition,
  type ExpressionScope,
} from '../definitions/expressions.js';
import type { Step } from '../definitions/schema.js';

/** Text rendered from a template; a raw non-string value (`{{ steps.x.output }}`) becomes JSON. */
export function renderText(template: string, scope: ExpressionScope): string {
  const value = evaluate(compileTemplate(template), scope);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function isEnabled(step: Pick<Step, 'when'>, scope: ExpressionScope): boolean {
  return step.when === undefined || evaluateCondition(compileExpression(step.when), scope);
}
