import { z } from 'zod';
import type { JsonSchema } from '../shared/modelTypes.js';

export type OutputCheck = (value: unknown) => { ok: true; value: unknown } | { ok: false; problem: string };

const compiled = new Map<string, OutputCheck>();
const MAX_CACHED = 256;

/**
 * A validator for a structured-output JSON Schema. Throws when the schema itself uses something zod cannot
 * check (e.g. `if`/`then`, external `$ref`): that is a bug in the workflow definition, found before any call.
 */
export function compileOutputSchema(schema: JsonSchema): OutputCheck {
  const key = JSON.stringify(schema);
  const cached = compiled.get(key);
  if (cached) return cached;
  let validator: z.ZodType;
  try {
    validator = z.fromJSONSchema(schema);
  } catch (error) {
    throw new Error(`outputSchema is not a JSON Schema this app can check: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const check: OutputCheck = (value) => {
    const result = validator.safeParse(value);
    if (result.success) return { ok: true, value };
    const problems = result.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.length > 0 ? `/${issue.path.join('/')}` : '(root)'}: ${issue.message}`);
    return { ok: false, problem: problems.join('; ') };
  };
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(key, check);
  return check;
}
