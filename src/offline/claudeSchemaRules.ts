/**
 * The JSON Schema subset Claude's structured outputs accept (`output_config.format.schema` and the
 * `input_schema` of a tool with `strict: true`). The offline model rejects anything outside it with a 400, as
 * the Claude API does.
 *
 * Sources:
 * - https://platform.claude.com/docs/en/build-with-claude/structured-outputs#json-schema-limitations
 *   (supported: basic types, `enum` of primitives, `const`, `anyOf`, `allOf`, local `$ref`/`$defs`/`definitions`,
 *   `default`, `required`, `additionalProperties: false`, the listed string formats, `minItems` 0 or 1, simple
 *   `pattern`s; not supported: recursive schemas, numeric constraints, string length constraints, other array
 *   constraints, external `$ref`, `additionalProperties` other than false).
 * - node_modules/@anthropic-ai/sdk/src/lib/transform-json-schema.ts: the SDK's own transform keeps exactly these
 *   keywords (and turns `oneOf` into `anyOf`); everything else it moves into `description`.
 */
type Schema = Readonly<Record<string, unknown>>;

/** Per the SDK's SUPPORTED_STRING_FORMATS (transform-json-schema.ts) and the structured-outputs docs. */
export const CLAUDE_STRING_FORMATS: ReadonlySet<string> = new Set([
  'date-time',
  'time',
  'date',
  'duration',
  'email',
  'hostname',
  'uri',
  'ipv4',
  'ipv6',
  'uuid',
]);

const ALLOWED_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  'allOf',
  '$ref',
  '$defs',
  'definitions',
  'description',
  'title',
  'default',
  'format',
  'minItems',
  'pattern',
]);

/** Regex features the docs list as unsupported in `pattern`: backreferences, lookaround, word boundaries. */
const UNSUPPORTED_PATTERN = /\\[1-9]|\\k<|\(\?<?[=!]|\\[bB]/;

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isPrimitive = (value: unknown) => value === null || typeof value !== 'object';

function types(schema: Schema): string[] {
  if (typeof schema.type === 'string') return [schema.type];
  return Array.isArray(schema.type) ? schema.type.map(String) : [];
}

function refTarget(ref: string): string | undefined {
  const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
  return match ? `${match[1]}/${match[2]}` : undefined;
}

function collectRefs(schema: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(schema)) for (const item of schema) collectRefs(item, into);
  else if (isSchema(schema)) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$ref' && typeof value === 'string') {
        const target = refTarget(value);
        if (target) into.add(target);
      } else collectRefs(value, into);
    }
  }
  return into;
}

/** A definition that reaches itself through `$ref`s: a recursive schema. */
function recursiveDefinition(root: Schema): string | undefined {
  const graph = new Map<string, Set<string>>();
  for (const section of ['$defs', 'definitions'] as const) {
    const defs = root[section];
    if (!isSchema(defs)) continue;
    for (const [name, def] of Object.entries(defs))
      graph.set(`${section}/${name}`, collectRefs(def, new Set()));
  }
  for (const start of graph.keys()) {
    const seen = new Set<string>();
    const stack = [...(graph.get(start) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (next === start) return start;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(graph.get(next) ?? []));
    }
  }
  return undefined;
}

function nodeProblem(schema: Schema, path: string, root: boolean): string | undefined {
  for (const key of Object.keys(schema)) {
    // `$schema` names the dialect and constrains nothing (the SDK drops it); accepted at the root only.
    if (key === '$schema' && root) continue;
    if (!ALLOWED_KEYWORDS.has(key)) {
      const type = types(schema).join('|') || 'schema';
      return `${path}: For '${type}' type, property '${key}' is not supported`;
    }
  }
  const kinds = types(schema);
  if (kinds.includes('object') || isSchema(schema.properties)) {
    if (schema.additionalProperties !== false) {
      return `${path}: For 'object' type, 'additionalProperties' must be explicitly set to false`;
    }
  } else if (schema.additionalProperties !== undefined) {
    return `${path}: 'additionalProperties' is only supported on objects, set to false`;
  }
  if (
    schema.format !== undefined &&
    (typeof schema.format !== 'string' || !CLAUDE_STRING_FORMATS.has(schema.format))
  ) {
    return `${path}: string format ${JSON.stringify(schema.format)} is not supported (supported: ${[...CLAUDE_STRING_FORMATS].join(', ')})`;
  }
  if (schema.minItems !== undefined && schema.minItems !== 0 && schema.minItems !== 1) {
    return `${path}: 'minItems' values other than 0 or 1 are not supported (got ${JSON.stringify(schema.minItems)})`;
  }
  if (schema.enum !== undefined && (!Array.isArray(schema.enum) || !schema.enum.every(isPrimitive))) {
    return `${path}: 'enum' values must be strings, numbers, booleans or null`;
  }
  if (schema.const !== undefined && !isPrimitive(schema.const)) {
    return `${path}: 'const' must be a string, number, boolean or null`;
  }
  if (typeof schema.$ref === 'string' && !refTarget(schema.$ref)) {
    return `${path}: '$ref' must point into this schema's '$defs' or 'definitions' (got ${schema.$ref})`;
  }
  if (typeof schema.pattern === 'string' && UNSUPPORTED_PATTERN.test(schema.pattern)) {
    return `${path}: 'pattern' uses a regex feature that is not supported (backreferences, lookaround, word boundaries)`;
  }
  return undefined;
}

function walk(schema: unknown, path: string, root = false): string | undefined {
  if (!isSchema(schema)) return `${path}: must be a JSON Schema object`;
  const own = nodeProblem(schema, path, root);
  if (own) return own;
  const children: [string, unknown][] = [];
  if (isSchema(schema.properties)) {
    for (const [name, sub] of Object.entries(schema.properties))
      children.push([`${path}.properties.${name}`, sub]);
  }
  if (schema.items !== undefined) children.push([`${path}.items`, schema.items]);
  for (const key of ['anyOf', 'allOf'] as const) {
    const list: unknown = schema[key];
    if (Array.isArray(list))
      list.forEach((sub: unknown, index) => children.push([`${path}.${key}.${index}`, sub]));
  }
  for (const key of ['$defs', 'definitions'] as const) {
    const defs = schema[key];
    if (isSchema(defs))
      for (const [name, sub] of Object.entries(defs)) children.push([`${path}.${key}.${name}`, sub]);
  }
  for (const [childPath, child] of children) {
    const problem = walk(child, childPath);
    if (problem) return problem;
  }
  return undefined;
}

/** Why Claude would reject `schema` as a structured-output schema, or undefined when it accepts it. */
export function claudeSchemaProblem(schema: unknown, path: string): string | undefined {
  const problem = walk(schema, path, true);
  if (problem) return problem;
  const recursive = isSchema(schema) ? recursiveDefinition(schema) : undefined;
  return recursive
    ? `${path}: recursive schemas are not supported ('${recursive}' refers to itself)`
    : undefined;
}
