import { z } from 'zod';
import { WorkflowDefinition } from '../definitions/schema.js';

/** Distinct definitions remembered per process; a deployment has a handful, so this never fills in practice. */
const MAX_REMEMBERED = 64;
const remembered = new Map<string, WorkflowDefinition>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * A workflow definition carried inside an orchestration or activity input. Every episode of every run
 * replays its input, and the runs of one workflow all carry the same definition, so each distinct
 * definition text is checked once per process and the (frozen) result reused: checking the full
 * definition schema on every replay was the largest single cost of a batch item's episodes.
 * Same text, same result, so replays stay deterministic.
 */
export const CarriedDefinition = z.unknown().transform((raw, ctx): WorkflowDefinition => {
  const key = JSON.stringify(raw);
  const known = remembered.get(key);
  if (known !== undefined) return known;
  const parsed = WorkflowDefinition.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: raw });
    }
    return z.NEVER;
  }
  if (remembered.size >= MAX_REMEMBERED) {
    const oldest = remembered.keys().next();
    if (oldest.done !== true) remembered.delete(oldest.value);
  }
  const definition = deepFreeze(parsed.data);
  remembered.set(key, definition);
  return definition;
});
