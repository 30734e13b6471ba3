import { z } from 'zod';
import { WorkflowDefinition } from '../definitions/schema.js';

/** Workflow versions remembered per process; a deployment has a handful, so this never fills in practice. */
const MAX_VERSIONS = 64;
/** Distinct texts remembered per name and version (edited without bumping the version). */
const MAX_TEXTS_PER_VERSION = 8;

interface Remembered {
  /** The definition exactly as it was carried (a private frozen copy), to compare later ones against. */
  readonly raw: unknown;
  readonly definition: WorkflowDefinition;
}

/** By name and version, least recently added first: the place to look is found without reading the whole definition. */
const remembered = new Map<string, Remembered[]>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Whether two JSON values would serialize to the same text: same values, same key order. Walking both
 * trees costs a fraction of serializing one of them, and allocates nothing.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], other[i])) return false;
    return true;
  }
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  for (let i = 0; i < aKeys.length; i++) {
    const key = aKeys[i] as string;
    if (key !== bKeys[i]) return false;
    if (!sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function bucketOf(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null) return '';
  const { name, version } = raw as { name?: unknown; version?: unknown };
  return `${String(name)}\u0000${String(version)}`;
}

function remember(bucket: string, entry: Remembered): void {
  const entries = remembered.get(bucket) ?? [];
  remembered.delete(bucket);
  if (entries.length >= MAX_TEXTS_PER_VERSION) entries.shift();
  entries.push(entry);
  remembered.set(bucket, entries);
  const oldest = remembered.keys().next();
  if (remembered.size > MAX_VERSIONS && oldest.done !== true) remembered.delete(oldest.value);
}

/**
 * A workflow definition carried inside an orchestration or activity input. Every episode of every run
 * replays its input, and the runs of one workflow all carry the same definition, so each distinct
 * definition is checked once per process and the (frozen) result reused: checking the full definition
 * schema on every replay was the largest single cost of a batch item's episodes. Only a definition that
 * is the same JSON, key for key, reuses a result, so replays stay deterministic.
 */
export const CarriedDefinition = z.unknown().transform((raw, ctx): WorkflowDefinition => {
  const bucket = bucketOf(raw);
  const known = remembered.get(bucket)?.find((entry) => sameJson(entry.raw, raw));
  if (known !== undefined) return known.definition;
  const parsed = WorkflowDefinition.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: raw });
    }
    return z.NEVER;
  }
  const definition = deepFreeze(parsed.data);
  remember(bucket, { raw: deepFreeze(structuredClone(raw)), definition });
  return definition;
});
