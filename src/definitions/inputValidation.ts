/** Validates a run's input against its workflow's input schema (for the HTTP and queue starters). */
import type { ValidateFunction } from 'ajv';
import { createAjv } from './jsonSchema.js';
import type { WorkflowDefinition } from './schema.js';

export interface InputProblem {
  /** JSON pointer into the input, e.g. `/questions`; empty for the input as a whole. */
  readonly path: string;
  readonly message: string;
}

export type InputValidationResult =
  | {
      readonly ok: true;
      /** A copy of the input with the schema's `default`s filled in: start the run with this. */
      readonly value: unknown;
    }
  | { readonly ok: false; readonly problems: readonly InputProblem[] };

const ajv = createAjv();
/** Keyed by the schema text, so a definition that crossed a JSON boundary still hits the cache. */
const validators = new Map<string, ValidateFunction>();
/** The catalog hands out the same definition objects: those skip serializing their schema per start. */
const validatorsBySchema = new WeakMap<object, ValidateFunction>();

function validatorFor(definition: WorkflowDefinition): ValidateFunction {
  const known = validatorsBySchema.get(definition.input);
  if (known) return known;
  const key = JSON.stringify(definition.input);
  let validate = validators.get(key);
  if (!validate) {
    const { $id: _ignored, ...schema } = definition.input;
    validate = ajv.compile(schema);
    validators.set(key, validate);
  }
  validatorsBySchema.set(definition.input, validate);
  return validate;
}

function describe(error: NonNullable<ValidateFunction['errors']>[number]): InputProblem {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    return { path: `${error.instancePath}/${String(params.missingProperty)}`, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties') {
    return {
      path: `${error.instancePath}/${String(params.additionalProperty)}`,
      message: 'is not allowed here',
    };
  }
  return { path: error.instancePath, message: error.message ?? `fails ${error.keyword}` };
}

export function validateWorkflowInput(definition: WorkflowDefinition, input: unknown): InputValidationResult {
  const validate = validatorFor(definition);
  const value: unknown = input === undefined ? undefined : structuredClone(input);
  if (validate(value)) return { ok: true, value };
  return { ok: false, problems: (validate.errors ?? []).map(describe) };
}
