import { constraintsFromDescription } from './descriptionHints.js';

type Schema = Readonly<Record<string, unknown>>;

const MAX_DEPTH = 8;
const BASE_TIME_MS = Date.UTC(2026, 0, 1);

interface Generator {
  readonly random: () => number;
  readonly root: Schema;
}

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
const int = (g: Generator, min: number, max: number) => min + Math.floor(g.random() * (max - min + 1));
const pick = <T>(g: Generator, items: readonly T[]): T => items[int(g, 0, items.length - 1)] as T;
const hex = (g: Generator, length: number) =>
  Array.from({ length }, () => int(g, 0, 15).toString(16)).join('');

function resolveRef(g: Generator, ref: string): Schema {
  if (!ref.startsWith('#/')) return {};
  let node: unknown = g.root;
  for (const part of ref.slice(2).split('/')) {
    node = isSchema(node) ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return isSchema(node) ? node : {};
}

function mergeAllOf(schema: Schema): Schema {
  const parts = Array.isArray(schema.allOf) ? schema.allOf.filter(isSchema) : [];
  return parts.reduce<Schema>(
    (merged, part) => ({
      ...merged,
      ...part,
      properties: {
        ...(isSchema(merged.properties) ? merged.properties : {}),
        ...(isSchema(part.properties) ? part.properties : {}),
      },
      required: [...list(merged.required), ...list(part.required)],
    }),
    { ...schema, allOf: undefined },
  );
}

function schemaType(schema: Schema): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return (type.find((t) => t !== 'null') as string | undefined) ?? 'null';
  if (isSchema(schema.properties)) return 'object';
  if (schema.items !== undefined) return 'array';
  return 'string';
}

function fitLength(text: string, schema: Schema): string {
  const min = num(schema.minLength) ?? 0;
  const max = num(schema.maxLength) ?? Number.POSITIVE_INFINITY;
  const padded = text.length >= min ? text : text + 'x'.repeat(min - text.length);
  return padded.slice(0, max);
}

function formattedString(g: Generator, format: string): string | undefined {
  const when = new Date(BASE_TIME_MS + int(g, 0, 364) * 86_400_000 + int(g, 0, 86_399) * 1000);
  switch (format) {
    case 'date-time':
      return when.toISOString().replace(/\.\d{3}Z$/, 'Z');
    case 'date':
      return when.toISOString().slice(0, 10);
    case 'time':
      return `${when.toISOString().slice(11, 19)}Z`;
    case 'duration':
      return `PT${int(g, 1, 59)}M`;
    case 'email':
      return `offline.${hex(g, 6)}@example.com`;
    case 'uri':
    case 'url':
    case 'uri-reference':
      return `https://example.com/offline/${hex(g, 8)}`;
    case 'hostname':
      return `offline-${hex(g, 6)}.example.com`;
    case 'uuid':
    case 'guid':
      return `${hex(g, 8)}-${hex(g, 4)}-4${hex(g, 3)}-${pick(g, ['8', '9', 'a', 'b'])}${hex(g, 3)}-${hex(g, 12)}`;
    case 'ipv4':
      return `192.0.2.${int(g, 1, 254)}`;
    case 'ipv6':
      return `2001:db8::${hex(g, 4)}`;
    default:
      return undefined;
  }
}

function stringValue(g: Generator, schema: Schema, label: string): string {
  const format = typeof schema.format === 'string' ? formattedString(g, schema.format) : undefined;
  if (format !== undefined) return format;
  const about = typeof schema.description === 'string' ? schema.description : label;
  return fitLength(`[offline] ${about} ${hex(g, 4)}`.trim(), schema);
}

function numberValue(g: Generator, schema: Schema, integer: boolean): number {
  const exclusiveMin = num(schema.exclusiveMinimum);
  const exclusiveMax = num(schema.exclusiveMaximum);
  let min = num(schema.minimum) ?? (exclusiveMin !== undefined ? exclusiveMin + (integer ? 1 : 1e-6) : 0);
  let max =
    num(schema.maximum) ?? (exclusiveMax !== undefined ? exclusiveMax - (integer ? 1 : 1e-6) : min + 100);
  if (max < min) max = min;
  const step = num(schema.multipleOf);
  if (step !== undefined && step > 0) {
    const low = Math.ceil(min / step);
    const high = Math.max(low, Math.floor(max / step));
    return int(g, low, high) * step;
  }
  if (integer) {
    min = Math.ceil(min);
    return int(g, min, Math.max(min, Math.floor(max)));
  }
  return Math.round((min + g.random() * (max - min)) * 1000) / 1000;
}

function arrayValue(g: Generator, schema: Schema, label: string, depth: number): unknown[] {
  const min = num(schema.minItems) ?? 0;
  const max = num(schema.maxItems) ?? Math.max(min, 3);
  const count =
    depth >= MAX_DEPTH ? min : int(g, Math.min(Math.max(min, 1), max), Math.min(max, Math.max(min, 3)));
  const items = isSchema(schema.items) ? schema.items : {};
  const values: unknown[] = [];
  for (let index = 0, tries = 0; values.length < count && tries < count * 10; tries++, index++) {
    const value = valueFor(g, items, `${label} item ${index + 1}`, depth + 1);
    if (schema.uniqueItems === true && values.some((seen) => JSON.stringify(seen) === JSON.stringify(value)))
      continue;
    values.push(value);
  }
  return values;
}

function objectValue(g: Generator, schema: Schema, depth: number): Record<string, unknown> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const result: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    if (depth >= MAX_DEPTH && !required.has(name)) continue;
    result[name] = valueFor(g, isSchema(property) ? property : {}, name, depth + 1);
  }
  for (const name of required) {
    if (!(name in result)) result[name] = `[offline] ${name}`;
  }
  return result;
}

/**
 * Constraints a schema carries in its description as `(key: value; …)`, the way src/models/openaiSchema.ts
 * moves keywords OpenAI's strict mode refuses (e.g. `format: uri`): a real model reads and follows them, so
 * the stand-in does too.
 */
function withDescribedConstraints(schema: Schema): Schema {
  const note = typeof schema.description === 'string' ? /\(([^()]*)\)$/.exec(schema.description) : null;
  if (!note?.[1]) return schema;
  const described: Record<string, unknown> = {};
  for (const part of note[1].split('; ')) {
    const match = /^([A-Za-z]+): (.+)$/.exec(part);
    if (!match?.[1] || match[2] === undefined || match[1] in schema) continue;
    try {
      described[match[1]] = JSON.parse(match[2]) as unknown;
    } catch {
      described[match[1]] = match[2];
    }
  }
  return { ...described, ...schema };
}

function valueFor(g: Generator, input: Schema, label: string, depth: number): unknown {
  let schema = withDescribedConstraints(input);
  for (let hops = 0; typeof schema.$ref === 'string' && hops < 16; hops++) {
    schema = { ...resolveRef(g, schema.$ref), ...schema, $ref: undefined };
  }
  // Constraints the SDK moved into the description count as if they were keywords (descriptionHints.ts).
  schema = { ...constraintsFromDescription(schema.description), ...schema };
  if (Array.isArray(schema.allOf)) schema = mergeAllOf(schema);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return pick(g, schema.enum);
  const options = [schema.anyOf, schema.oneOf].find(Array.isArray)?.filter(isSchema);
  if (options && options.length > 0) {
    const usable = options.filter((option) => option.type !== 'null');
    return valueFor(
      g,
      { ...schema, anyOf: undefined, oneOf: undefined, ...pick(g, usable.length > 0 ? usable : options) },
      label,
      depth,
    );
  }
  switch (schemaType(schema)) {
    case 'object':
      return objectValue(g, schema, depth);
    case 'array':
      return arrayValue(g, schema, label, depth);
    case 'integer':
      return numberValue(g, schema, true);
    case 'number':
      return numberValue(g, schema, false);
    case 'boolean':
      return g.random() < 0.5;
    case 'null':
      return null;
    default:
      return stringValue(g, schema, label);
  }
}

/**
 * A value that satisfies `schema` (types, required, enums, const, item counts, string formats and lengths,
 * numeric bounds; not `pattern`), chosen by `random` so a fixed seed gives a fixed value.
 */
export function valueFromSchema(schema: Readonly<Record<string, unknown>>, random: () => number): unknown {
  return valueFor({ random, root: schema }, schema, 'value', 0);
}
