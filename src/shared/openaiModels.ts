/**
 * Whether an OpenAI model or deployment name is a reasoning model: the o-series and GPT-5.x, except the
 * `-chat` variants. Reasoning models refuse `temperature`/`top_p` other than the default and `max_tokens`
 * (https://learn.microsoft.com/azure/ai-foundry/openai/how-to/reasoning#not-supported,
 * https://platform.openai.com/docs/guides/reasoning). Azure deployment names are free text, so the app lets
 * settings override this guess (src/models/README.md, OPENAI_REASONING_DEPLOYMENTS).
 */
export function isReasoningModelName(model: string): boolean {
  const name = model.toLowerCase();
  return /^(o\d|gpt-5)/.test(name) && !name.includes('-chat');
}

/*
 * Structured Outputs' supported subset, https://platform.openai.com/docs/guides/structured-outputs#supported-schemas
 * (Azure: https://learn.microsoft.com/azure/ai-foundry/openai/how-to/structured-outputs#supported-schemas-and-limitations):
 * types string/number/boolean/integer/object/array/enum/anyOf; string `pattern` and `format`; number
 * `multipleOf`, `maximum`, `exclusiveMaximum`, `minimum`, `exclusiveMinimum`; array `minItems`, `maxItems`;
 * `$ref`/`$defs`/`definitions`, `const`, `description`, `title`. The SDK's strict-schema helper rejects the
 * rest (node_modules/openai/src/lib/transform.ts, JSON_SCHEMA_UNSUPPORTED_SCHEMA_KEYWORDS).
 */
export const STRICT_SCHEMA_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  '$ref',
  '$defs',
  'definitions',
  'description',
  'title',
  'pattern',
  'format',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'minItems',
  'maxItems',
]);
/** Root metadata the SDK's helper keeps (node_modules/openai/src/lib/transform.ts, JSON_SCHEMA_ROOT_METADATA_KEYWORDS). */
export const STRICT_ROOT_KEYWORDS: ReadonlySet<string> = new Set(['$schema', '$id']);
/** "Supported string formats", same guide: `uri` is not among them. */
export const STRICT_STRING_FORMATS: ReadonlySet<string> = new Set([
  'date-time',
  'time',
  'date',
  'duration',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'uuid',
]);

/**
 * "Objects have limitations on nesting depth and size" (same guide, #objects-have-limitations-on-nesting-depth-and-size):
 * up to 5,000 object properties, 10 levels of object nesting, 1,000 enum values, and 120,000 characters of
 * property names, definition names and enum string values in all. The app checks them before sending
 * (src/models/openaiSchema.ts), the offline model rejects past them (src/offline/openaiRules.ts).
 */
export const STRICT_LIMITS = {
  maxProperties: 5000,
  maxNesting: 10,
  maxEnumValues: 1000,
  maxStringChars: 120_000,
} as const;
