/** Where a workflow's input schema declares files (`"x-file"`), and the values found there in an input. */
import { FILE_KEYWORD } from './jsonSchema.js';
import type { FileMediaType } from '../shared/fileTypes.js';

export interface FileSlot {
  /** JSON pointer into the input, e.g. `/document` or `/pages/2`. */
  readonly pointer: string;
  readonly value: unknown;
  readonly mediaTypes?: readonly FileMediaType[];
  /** Replaces the value in the input (the starter stores the checked file there). */
  readonly replace: (next: unknown) => void;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Whether a schema declares any file (the starter skips intake entirely when not). */
export function declaresFiles(schema: unknown): boolean {
  if (!isObject(schema)) return false;
  if (schema[FILE_KEYWORD] !== undefined) return true;
  const properties = isObject(schema.properties) ? Object.values(schema.properties) : [];
  return properties.some(declaresFiles) || declaresFiles(schema.items);
}

/**
 * Every file-declared position present in `value`, walking `properties` and `items` (the forms the
 * starter supports; a file under `anyOf`/`$ref` is not found, so declare files directly).
 */
export function fileSlots(schema: unknown, value: unknown): FileSlot[] {
  const slots: FileSlot[] = [];
  const visit = (node: unknown, current: unknown, pointer: string, replace: (next: unknown) => void) => {
    if (!isObject(node) || current === undefined) return;
    const marker = node[FILE_KEYWORD];
    if (marker !== undefined) {
      const mediaTypes = isObject(marker) && Array.isArray(marker.mediaTypes) ? marker.mediaTypes : undefined;
      slots.push({
        pointer,
        value: current,
        ...(mediaTypes ? { mediaTypes: mediaTypes as FileMediaType[] } : {}),
        replace,
      });
      return;
    }
    if (isObject(node.properties) && isObject(current)) {
      for (const [key, child] of Object.entries(node.properties)) {
        if (!Object.hasOwn(current, key)) continue;
        visit(child, current[key], `${pointer}/${escape(key)}`, (next) => {
          current[key] = next;
        });
      }
    }
    if (node.items !== undefined && Array.isArray(current)) {
      current.forEach((item, index) =>
        visit(node.items, item, `${pointer}/${index}`, (next) => {
          current[index] = next;
        }),
      );
    }
  };
  visit(schema, value, '', () => undefined);
  return slots;
}
