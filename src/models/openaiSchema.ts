import type { JsonSchema } from '../shared/modelTypes.js';
import {
  STRICT_LIMITS,
  STRICT_ROOT_KEYWORDS,
  STRICT_SCHEMA_KEYWORDS,
  STRICT_STRING_FORMATS,
} from '../shared/openaiModels.js';

/**
 * Turns a workflow's JSON Schema into one OpenAI's strict Structured Outputs accept
 * (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas): every object closed
 * (`additionalProperties: false`) and listing every property in `required`, with originally optional
 * properties made nullable ("all fields must be required … emulate an optional parameter by using a union type
 * with null", same guide); keywords and string formats strict mode does not support are moved into the
 * `description`, where the model still reads them, and the full original schema is checked locally after the
 * call (callModel's compileOutputSchema). `oneOf` becomes `anyOf` (the local check keeps the exclusivity).
 *
 * Why not the SDK's `toStrictJsonSchema` (node_modules/openai/src/lib/transform.ts): it is internal to the
 * zod helpers and throws on optional properties and unsupported keywords rather than rewriting them.
 * Schemas this cannot represent (open objects, `allOf`, `not`, conditionals, tuples) go non-strict unchanged.
 */
export interface OpenAISchema {
  readonly schema: JsonSchema;
  readonly strict: boolean;
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keywords that hold subschemas: their meaning cannot be kept as a description, so the schema goes non-strict. */
const STRUCTURAL = new Set([
  'allOf',
  'not',
  'if',
  'then',
  'else',
  'patternProperties',
  'dependentSchemas',
  'dependencies',
  'prefixItems',
  'additionalItems',
  'contains',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
]);
class NotRepresentable extends Error {}

function allowsNull(schema: unknown): boolean {
  if (!isRecord(schema)) return schema === true;
  if (schema.type === 'null' || (Array.isArray(schema.type) && schema.type.includes('null'))) return true;
  if (Array.isArray(schema.enum) && schema.enum.includes(null)) return true;
  if ('const' in schema && schema.const === null) return true;
  return [schema.anyOf, schema.oneOf].some((options) => Array.isArray(options) && options.some(allowsNull));
}

function nullable(schema: Json): Json {
  if (allowsNull(schema)) return schema;
  const { type } = schema;
  if (
    (typeof type === 'string' || Array.isArray(type)) &&
    schema.$ref === undefined &&
    !('const' in schema)
  ) {
    const types: unknown[] = Array.isArray(type) ? type : [type];
    return {
      ...schema,
      type: [...types, 'null'],
      ...(Array.isArray(schema.enum) ? { enum: [...(schema.enum as unknown[]), null] } : {}),
    };
  }
  if (Array.isArray(schema.anyOf))
    return { ...schema, anyOf: [...(schema.anyOf as unknown[]), { type: 'null' }] };
  return { anyOf: [schema, { type: 'null' }] };
}

function strictNode(input: unknown, isRoot: boolean): Json {
  if (!isRecord(input)) throw new NotRepresentable();
  const node: Json = {};
  const notes: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (STRUCTURAL.has(key)) throw new NotRepresentable();
    if (key === 'oneOf') node.anyOf = value;
    else if (key === 'format' && (typeof value !== 'string' || !STRICT_STRING_FORMATS.has(value)))
      notes.push(`format: ${String(value)}`);
    else if (STRICT_SCHEMA_KEYWORDS.has(key) || (isRoot && STRICT_ROOT_KEYWORDS.has(key))) node[key] = value;
    else notes.push(`${key}: ${JSON.stringify(value)}`);
  }
  if (notes.length > 0) {
    const lead = typeof node.description === 'string' && node.description ? `${node.description} ` : '';
    node.description = `${lead}(${notes.join('; ')})`;
  }
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes('object') || node.properties !== undefined) {
    if (node.additionalProperties !== undefined && node.additionalProperties !== false)
      throw new NotRepresentable();
    const properties = isRecord(node.properties) ? node.properties : {};
    const required = new Set(Array.isArray(node.required) ? node.required : []);
    node.properties = Object.fromEntries(
      Object.entries(properties).map(([name, child]) => {
        const strict = strictNode(child, false);
        return [name, required.has(name) ? strict : nullable(strict)];
      }),
    );
    node.required = Object.keys(properties);
    node.additionalProperties = false;
  }
  if (types.includes('array') && node.items === undefined) throw new NotRepresentable();
  if (node.items !== undefined) node.items = strictNode(node.items, false);
  if (node.anyOf !== undefined) {
    if (!Array.isArray(node.anyOf)) throw new NotRepresentable();
    node.anyOf = node.anyOf.map((option) => strictNode(option, false));
  }
  for (const key of ['$defs', 'definitions'] as const) {
    const defs = node[key];
    if (isRecord(defs)) {
      node[key] = Object.fromEntries(Object.entries(defs).map(([name, d]) => [name, strictNode(d, false)]));
    }
  }
  return node;
}

/** The schema to send and whether to send it with `strict: true`; see the module comment. */
export function toOpenAIStrictSchema(schema: JsonSchema): OpenAISchema {
  // "The root level object must be an object, and not use anyOf", same guide.
  if (schema.type !== 'object' || schema.anyOf !== undefined || schema.oneOf !== undefined) {
    return { schema, strict: false };
  }
  try {
    const strict = strictNode(schema, true);
    // Past the size limits strict mode is a 400; sent non-strict, the local check still holds the schema.
    return strictSizeProblem(strict) ? { schema, strict: false } : { schema: strict, strict: true };
  } catch (error) {
    if (error instanceof NotRepresentable) return { schema, strict: false };
    throw error;
  }
}

function resolveRef(root: JsonSchema, schema: Json): Json {
  let node = schema;
  for (let hops = 0; typeof node.$ref === 'string' && node.$ref.startsWith('#/') && hops < 16; hops++) {
    let target: unknown = root;
    for (const part of node.$ref.slice(2).split('/')) {
      target = isRecord(target) ? target[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    }
    if (!isRecord(target)) break;
    node = { ...target, ...node, $ref: undefined };
  }
  return node;
}

/**
 * Undoes the nullable-ification on an answer: a `null` for a property the original schema had optional and
 * not nullable is dropped, so the answer is checked against the original schema as written. Only follows
 * `properties`, `items` and local `$ref`s (inside `anyOf` the branch is unknown, so it leaves values alone).
 */
export function restoreOptionalProperties(original: JsonSchema, value: unknown): unknown {
  const walk = (input: unknown, current: unknown): unknown => {
    if (!isRecord(input)) return current;
    const schema = resolveRef(original, input);
    if (Array.isArray(current)) {
      return isRecord(schema.items) ? current.map((item) => walk(schema.items, item)) : current;
    }
    if (!isRecord(current) || !isRecord(schema.properties)) return current;
    const properties = schema.properties;
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    const result: Json = {};
    for (const [key, child] of Object.entries(current)) {
      const property = properties[key];
      if (child === null && property !== undefined && !required.has(key) && !allowsNull(property)) continue;
      result[key] = property === undefined ? child : walk(property, child);
    }
    return result;
  };
  return walk(original, value);
}

/**
 * Why a strict schema is past OpenAI's size limits (STRICT_LIMITS: object nesting, property count, enum
 * values, characters of names and enum strings), or undefined. Depth counts objects, the root being 1;
 * `items`, `anyOf` and definitions sit at their parent's depth.
 */
export function strictSizeProblem(schema: JsonSchema): string | undefined {
  const totals = { properties: 0, enumValues: 0, chars: 0, depth: 0 };
  const walk = (node: unknown, depth: number): void => {
    if (!isRecord(node)) return;
    if (Array.isArray(node.enum)) {
      totals.enumValues += node.enum.length;
      for (const value of node.enum) if (typeof value === 'string') totals.chars += value.length;
    }
    if (isRecord(node.properties)) {
      totals.depth = Math.max(totals.depth, depth);
      for (const [name, child] of Object.entries(node.properties)) {
        totals.properties += 1;
        totals.chars += name.length;
        walk(child, depth + 1);
      }
    }
    walk(node.items, depth);
    if (Array.isArray(node.anyOf)) for (const option of node.anyOf) walk(option, depth);
    for (const key of ['$defs', 'definitions'] as const) {
      const defs = node[key];
      if (!isRecord(defs)) continue;
      for (const [name, child] of Object.entries(defs)) {
        totals.chars += name.length;
        walk(child, depth);
      }
    }
  };
  walk(schema, 1);
  if (totals.depth > STRICT_LIMITS.maxNesting) {
    return `object nesting is ${totals.depth} levels deep (at most ${STRICT_LIMITS.maxNesting})`;
  }
  if (totals.properties > STRICT_LIMITS.maxProperties) {
    return `${totals.properties} object properties (at most ${STRICT_LIMITS.maxProperties})`;
  }
  if (totals.enumValues > STRICT_LIMITS.maxEnumValues) {
    return `${totals.enumValues} enum values (at most ${STRICT_LIMITS.maxEnumValues})`;
  }
  if (totals.chars > STRICT_LIMITS.maxStringChars) {
    return `${totals.chars} characters of property names and enum values (at most ${STRICT_LIMITS.maxStringChars})`;
  }
  return undefined;
}
