/** The wire shapes of the offline batch APIs: batch objects, result lines, and checks of what clients send. */
import { MODEL_BATCH_CUSTOM_ID } from '../shared/providerBatchTypes.js';
import { shortHash } from './prng.js';
import type { Protocol } from './requestView.js';
import type { BatchItemAnswer } from './batchRoutes.js';
import { errorBody, type WireResponse } from './wire.js';

export interface StoredItem {
  readonly customId: string;
  answer: BatchItemAnswer;
}

export interface StoredBatch {
  readonly id: string;
  readonly protocol: Protocol;
  readonly createdAt: number;
  readonly items: StoredItem[];
  pollsLeft: number;
  ended: boolean;
  canceled: boolean;
  /** OpenAI only. */
  readonly endpoint?: string;
  readonly inputFileId?: string;
  /** Why the input file was rejected: the batch is `failed` from the start. */
  readonly problems?: readonly string[];
  outputFileId?: string | null;
  errorFileId?: string | null;
}

/** A request to answer: its custom id, the path it targets and its body. */
export interface BatchEntry {
  readonly customId: string;
  readonly path: string;
  readonly body: unknown;
}

const OPENAI_ENDPOINTS = new Set(['/v1/chat/completions', '/chat/completions']);
const DAY_SECONDS = 86_400;

export const json = (status: number, body: unknown): WireResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
export const fail = (protocol: Protocol, status: number, message: string): WireResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: errorBody(protocol, status, message),
});
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const jsonl = (lines: readonly unknown[]) => lines.map((line) => `${JSON.stringify(line)}\n`).join('');

function tally(batch: StoredBatch) {
  const counts = { succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  for (const { answer } of batch.items) {
    if (answer.kind === 'response') counts[answer.status === 200 ? 'succeeded' : 'errored'] += 1;
    else counts[answer.kind] += 1;
  }
  return counts;
}

/** The requests of a Message Batches create body, or why the API would answer 400. */
export function anthropicEntries(body: unknown, prefix: string): BatchEntry[] | string {
  const requests = isRecord(body) ? body.requests : undefined;
  if (!Array.isArray(requests) || requests.length === 0) return 'requests: must be a non-empty list';
  const seen = new Set<string>();
  const entries: BatchEntry[] = [];
  for (const [index, request] of requests.entries()) {
    const customId = isRecord(request) ? request.custom_id : undefined;
    if (typeof customId !== 'string' || !MODEL_BATCH_CUSTOM_ID.test(customId)) {
      return `requests.${index}.custom_id: must match ^[a-zA-Z0-9_-]{1,64}$`;
    }
    if (seen.has(customId)) return `requests.${index}.custom_id: duplicate "${customId}"`;
    const params = (request as Record<string, unknown>).params;
    if (!isRecord(params)) return `requests.${index}.params: must be an object`;
    seen.add(customId);
    entries.push({ customId, path: `${prefix}/v1/messages`, body: params });
  }
  return entries;
}

export function anthropicBatchView(batch: StoredBatch, base: string) {
  return {
    id: batch.id,
    type: 'message_batch',
    processing_status: batch.ended ? 'ended' : 'in_progress',
    request_counts: batch.ended
      ? { processing: 0, ...tally(batch) }
      : { processing: batch.items.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    created_at: iso(batch.createdAt),
    expires_at: iso(batch.createdAt + DAY_SECONDS),
    ended_at: batch.ended ? iso(batch.createdAt + 60) : null,
    cancel_initiated_at: batch.canceled ? iso(batch.createdAt + 30) : null,
    archived_at: null,
    results_url: batch.ended && base ? `${base}/v1/messages/batches/${batch.id}/results` : null,
  };
}

/** The results JSONL of an ended Message Batch: succeeded, errored, canceled or expired per request. */
export function anthropicResults(batch: StoredBatch): WireResponse {
  if (!batch.ended) return fail('anthropic', 400, `Batch ${batch.id} has not ended`);
  const lines = batch.items.map(({ customId, answer }) => {
    if (answer.kind !== 'response') return { custom_id: customId, result: { type: answer.kind } };
    return answer.status === 200
      ? { custom_id: customId, result: { type: 'succeeded', message: answer.body } }
      : { custom_id: customId, result: { type: 'errored', error: answer.body } };
  });
  return { status: 200, headers: { 'content-type': 'application/binary' }, body: jsonl(lines) };
}

/** Checks a Batch API create body; the batch input file is checked by `openAIEntries`. */
export function openAIEndpointProblem(body: Record<string, unknown>): string | undefined {
  const endpoint = body.endpoint;
  return typeof endpoint === 'string' && OPENAI_ENDPOINTS.has(endpoint) && body.completion_window === '24h'
    ? undefined
    : 'endpoint must be /v1/chat/completions (or /chat/completions) and completion_window 24h';
}

/** The requests of a batch input file, and the lines the provider would reject it for. */
export function openAIEntries(text: string, endpoint: string): { entries: BatchEntry[]; problems: string[] } {
  const entries: BatchEntry[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [index, lineText] of text.split('\n').entries()) {
    if (lineText.trim() === '') continue;
    let line: unknown;
    try {
      line = JSON.parse(lineText);
    } catch {
      problems.push(`line ${index + 1}: not JSON`);
      continue;
    }
    const customId = isRecord(line) ? line.custom_id : undefined;
    if (!isRecord(line) || typeof customId !== 'string' || seen.has(customId)) {
      problems.push(`line ${index + 1}: custom_id missing or repeated`);
    } else if (line.method !== 'POST' || line.url !== endpoint || !isRecord(line.body)) {
      problems.push(`line ${index + 1}: needs method POST, url ${endpoint} and a body`);
    } else {
      seen.add(customId);
      entries.push({ customId, path: endpoint, body: line.body });
    }
  }
  return { entries, problems };
}

/** An ended batch's output file (200 answers) and error file (the rest), as JSONL; empty when none. */
export function openAIResultFiles(batch: StoredBatch): { output: string; errors: string } {
  const outputs: unknown[] = [];
  const errors: unknown[] = [];
  for (const { customId, answer } of batch.items) {
    const id = `batch_req_${shortHash(`${batch.id}:${customId}`, 20)}`;
    if (answer.kind === 'response') {
      const response = { status_code: answer.status, request_id: id, body: answer.body };
      (answer.status === 200 ? outputs : errors).push({ id, custom_id: customId, response, error: null });
    } else {
      const code = answer.kind === 'expired' ? 'batch_expired' : 'batch_cancelled';
      const message = `This request was not processed: the batch was ${answer.kind === 'expired' ? 'expired' : 'cancelled'}.`;
      errors.push({ id, custom_id: customId, response: null, error: { code, message } });
    }
  }
  return { output: jsonl(outputs), errors: jsonl(errors) };
}

export function openAIBatchView(batch: StoredBatch) {
  const counts = tally(batch);
  const problems = batch.problems ?? [];
  const status =
    problems.length > 0
      ? 'failed'
      : !batch.ended
        ? 'in_progress'
        : batch.canceled
          ? 'cancelled'
          : 'completed';
  return {
    id: batch.id,
    object: 'batch',
    endpoint: batch.endpoint,
    input_file_id: batch.inputFileId,
    completion_window: '24h',
    status,
    created_at: batch.createdAt,
    expires_at: batch.createdAt + DAY_SECONDS,
    output_file_id: batch.ended ? (batch.outputFileId ?? null) : null,
    error_file_id: batch.ended ? (batch.errorFileId ?? null) : null,
    errors:
      problems.length > 0
        ? { object: 'list', data: problems.map((message) => ({ code: 'invalid_request', message })) }
        : null,
    request_counts: {
      total: batch.items.length,
      completed: batch.ended ? counts.succeeded : 0,
      failed: batch.ended ? counts.errored + counts.canceled + counts.expired : 0,
    },
    metadata: null,
  };
}
