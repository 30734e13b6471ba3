/**
 * Keeps a deeply nested queue message from failing inside `@azure/functions` before any app code runs.
 *
 * The library turns every trigger-metadata string that parses as JSON into a value and copies it
 * recursively (`fromRpcTriggerMetadata` → `toCamelCaseValue`, node_modules/@azure/functions/src/converters/)
 * while it builds the InvocationContext. A message nested a few thousand levels deep (its text is the
 * `QueueTrigger` metadata) overflows the stack there; the invocation fails, the host retries it
 * `maxDequeueCount` times and then poisons it with no reason. The library offers no option for this, so this
 * wraps its programming model (the `@azure/functions-core` `getProgrammingModel`/`setProgrammingModel`
 * contract the Node worker drives): for the given functions, a metadata string nesting deeper than
 * `MAX_JSON_DEPTH` is handed over as bytes of the same UTF-8 text, which the library passes through as a
 * Buffer, and the handler refuses the message with its reason at once. Pinned by test/business/queue.test.ts
 * (a 20,000-level message through the library's real invocation model on devhost, poisoned on its first
 * delivery) and test/unit/functions/workflowRequests.test.ts.
 */
import { createRequire } from 'node:module';
import { nestingProblem } from '../../shared/jsonText.js';

interface TypedData {
  string?: string | null;
  bytes?: Uint8Array | null;
}

interface CoreInvocationContext {
  readonly request: { triggerMetadata?: Record<string, TypedData> | null };
  readonly metadata: { readonly name: string };
}

export interface ProgrammingModel {
  getInvocationModel(context: CoreInvocationContext): unknown;
}

interface CoreApi {
  getProgrammingModel(): ProgrammingModel | undefined;
  setProgrammingModel(model: ProgrammingModel): void;
}

/** Rewrites, in place, metadata strings of `context` that nest too deeply into bytes of the same text. */
export function deepMetadataAsBytes(context: CoreInvocationContext): void {
  const metadata = context.request.triggerMetadata;
  if (!metadata) return;
  for (const [key, value] of Object.entries(metadata)) {
    const text = value?.string;
    if (typeof text === 'string' && nestingProblem(text) !== undefined) {
      metadata[key] = { bytes: Buffer.from(text, 'utf8') };
    }
  }
}

/** The library's programming model, with `deepMetadataAsBytes` applied to invocations of `functions`. */
export function guardedModel(model: ProgrammingModel, functions: readonly string[]): ProgrammingModel {
  const guarded = new Set(functions.map((name) => name.toLowerCase()));
  return new Proxy(model, {
    get(target, property, receiver) {
      if (property !== 'getInvocationModel') return Reflect.get(target, property, receiver) as unknown;
      return (context: CoreInvocationContext) => {
        if (guarded.has(context.metadata.name.toLowerCase())) deepMetadataAsBytes(context);
        return target.getInvocationModel(context);
      };
    },
  });
}

/**
 * Installs the guard for `functions`; call after registering them (the library sets its model on the first
 * registration). Outside a Functions host (no `@azure/functions-core`) there is nothing to guard.
 */
export function guardDeepQueueMessages(functions: readonly string[]): boolean {
  let core: CoreApi;
  try {
    core = createRequire(__filename)('@azure/functions-core') as CoreApi;
  } catch {
    return false;
  }
  const model = core.getProgrammingModel();
  if (!model) return false;
  core.setProgrammingModel(guardedModel(model, functions));
  return true;
}
