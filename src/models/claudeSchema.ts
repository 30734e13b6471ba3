import { transformJSONSchema } from '@anthropic-ai/sdk/lib/transform-json-schema';
import type { JsonSchema } from '../shared/modelTypes.js';

/**
 * A step's output schema in the form Claude's structured outputs accept, made by the SDK's own helper
 * (`transformJSONSchema`, node_modules/@anthropic-ai/sdk/src/lib/transform-json-schema.ts, the transform
 * behind `jsonSchemaOutputFormat`): every object closed (`additionalProperties: false`), `oneOf` as `anyOf`,
 * and each keyword Claude does not support (`minimum`, `maxLength`, `maxItems`, `minItems` > 1, unsupported
 * `format`s, …) moved into the node's `description` as `{maxLength: 300}` so the model still sees it. See
 * https://platform.claude.com/docs/en/build-with-claude/structured-outputs#json-schema-limitations.
 *
 * The answer is still checked against the full original schema (callModel's compileOutputSchema), so a
 * constraint that became a description is enforced locally.
 */
export function claudeOutputSchema(schema: JsonSchema): JsonSchema {
  try {
    return transformJSONSchema(schema);
  } catch (error) {
    throw new Error(`outputSchema cannot be sent to Claude: ${(error as Error).message}`, { cause: error });
  }
}
