/** The provider batch endpoints the offline model server answers, and what its batch store exchanges. */
import type { Protocol } from './requestView.js';

export type BatchRoute =
  | { readonly protocol: 'anthropic'; readonly action: 'create'; readonly prefix: string }
  | {
      readonly protocol: 'anthropic';
      readonly action: 'retrieve' | 'results' | 'cancel';
      readonly prefix: string;
      readonly id: string;
    }
  | { readonly protocol: 'openai'; readonly action: 'create' | 'upload'; readonly prefix: string }
  | {
      readonly protocol: 'openai';
      readonly action: 'retrieve' | 'cancel' | 'content' | 'delete';
      readonly prefix: string;
      readonly id: string;
    };

/** Message Batches also under Foundry's `/anthropic`, Files and Batch also under Azure's `/openai`. */
const ROUTE_PATTERNS: readonly [RegExp, string, BatchRoute['protocol'], BatchRoute['action']][] = [
  [/^(\/anthropic)?\/v1\/messages\/batches$/, 'POST', 'anthropic', 'create'],
  [/^(\/anthropic)?\/v1\/messages\/batches\/([^/]+)$/, 'GET', 'anthropic', 'retrieve'],
  [/^(\/anthropic)?\/v1\/messages\/batches\/([^/]+)\/results$/, 'GET', 'anthropic', 'results'],
  [/^(\/anthropic)?\/v1\/messages\/batches\/([^/]+)\/cancel$/, 'POST', 'anthropic', 'cancel'],
  [/^(\/openai)?\/v1\/files$/, 'POST', 'openai', 'upload'],
  [/^(\/openai)?\/v1\/files\/([^/]+)\/content$/, 'GET', 'openai', 'content'],
  // Files API `DELETE /v1/files/{file_id}` → `{ id, object: 'file', deleted: true }` (openai SDK
  // resources/files.d.ts `FileDeleted`); the app deletes batch input, output and error files after collecting.
  [/^(\/openai)?\/v1\/files\/([^/]+)$/, 'DELETE', 'openai', 'delete'],
  [/^(\/openai)?\/v1\/batches$/, 'POST', 'openai', 'create'],
  [/^(\/openai)?\/v1\/batches\/([^/]+)$/, 'GET', 'openai', 'retrieve'],
  [/^(\/openai)?\/v1\/batches\/([^/]+)\/cancel$/, 'POST', 'openai', 'cancel'],
];

/** The batch endpoint a request is for, if any. */
export function matchBatchRoute(method: string, path: string): BatchRoute | undefined {
  for (const [pattern, expectedMethod, protocol, action] of ROUTE_PATTERNS) {
    const match = pattern.exec(path);
    if (!match || method !== expectedMethod) continue;
    const prefix = match[1] ?? '';
    const id = match[2] === undefined ? {} : { id: decodeURIComponent(match[2]) };
    return { protocol, action, prefix, ...id } as BatchRoute;
  }
  return undefined;
}

/** One request inside a batch, for the server to answer like a direct call. */
export interface BatchItemRequest {
  readonly protocol: Protocol;
  readonly batchId: string;
  readonly customId: string;
  /** The endpoint the request targets: `/v1/messages`, or the JSONL line's `url`. */
  readonly path: string;
  readonly body: unknown;
}

/** A request's outcome: an HTTP answer as a direct call would get it, or never processed. */
export type BatchItemAnswer =
  | { readonly kind: 'response'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'expired' | 'canceled' };

/** How a batch being created behaves, from the test's script (a `batch` reply). */
export interface BatchCreateControl {
  readonly inProgressPolls?: number;
}

export interface BatchHttpRequest {
  /** The server's own `http://127.0.0.1:<port>`, for Anthropic's absolute `results_url`. */
  readonly origin: string;
  readonly contentType: string | undefined;
  readonly rawBody: Buffer;
  /** The parsed JSON body, when it is JSON. */
  readonly body: unknown;
}
