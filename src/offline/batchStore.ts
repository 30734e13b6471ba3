/**
 * Provider batch APIs of the offline model server, in memory: Anthropic Message Batches
 * (`/v1/messages/batches`, also under `/anthropic`) and the OpenAI Files + Batch APIs (`/v1/files`,
 * `/v1/batches`, also under `/openai`), enough for the real SDK clients. Every request of a batch is
 * answered when the batch is created, by the same script (or stand-in) that answers direct calls; the
 * batch then reports in progress for as many polls as the script asked for, and ends.
 */
import type {
  BatchCreateControl,
  BatchHttpRequest,
  BatchItemAnswer,
  BatchItemRequest,
  BatchRoute,
} from './batchRoutes.js';
import {
  anthropicBatchView,
  anthropicEntries,
  anthropicResults,
  fail,
  isRecord,
  json,
  openAIBatchView,
  openAIEndpointProblem,
  openAIEntries,
  openAIResultFiles,
  type BatchEntry,
  type StoredBatch,
  type StoredItem,
} from './batchWire.js';
import { shortHash } from './prng.js';
import type { Protocol } from './requestView.js';
import type { WireResponse } from './wire.js';

interface StoredFile {
  readonly id: string;
  readonly filename: string;
  readonly purpose: string;
  readonly text: string;
  readonly createdAt: number;
}

const CREATED_AT = 1_767_225_600;

export class OfflineBatchStore {
  private readonly batches = new Map<string, StoredBatch>();
  private readonly files = new Map<string, StoredFile>();
  private sequence = 0;

  constructor(private readonly answer: (item: BatchItemRequest) => Promise<BatchItemAnswer>) {}

  /** Answers any batch route; `control` shapes a batch being created. */
  async handle(
    route: BatchRoute,
    request: BatchHttpRequest,
    control: BatchCreateControl,
  ): Promise<WireResponse> {
    if (route.protocol === 'anthropic') {
      if (route.action === 'create') return this.createAnthropic(route.prefix, request.body, control);
      const batch = this.batches.get(route.id);
      if (!batch || batch.protocol !== 'anthropic') return fail('anthropic', 404, `No batch ${route.id}`);
      if (route.action === 'retrieve') this.advance(batch);
      if (route.action === 'cancel') this.cancel(batch);
      if (route.action === 'results') return anthropicResults(batch);
      return json(200, anthropicBatchView(batch, `${request.origin}${route.prefix}`));
    }
    switch (route.action) {
      case 'upload':
        return this.upload(request);
      case 'content': {
        const file = this.files.get(route.id);
        if (!file) return fail('openai', 404, `No file ${route.id}`);
        return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: file.text };
      }
      case 'delete': {
        if (!this.files.delete(route.id)) return fail('openai', 404, `No file ${route.id}`);
        return json(200, { id: route.id, object: 'file', deleted: true });
      }
      case 'create':
        return this.createOpenAI(request.body, control);
      case 'retrieve':
      case 'cancel': {
        const batch = this.batches.get(route.id);
        if (!batch || batch.protocol !== 'openai') return fail('openai', 404, `No batch ${route.id}`);
        if (route.action === 'retrieve') this.advance(batch);
        else this.cancel(batch);
        return json(200, openAIBatchView(batch));
      }
    }
  }

  private nextId(prefix: string, seed: string): string {
    this.sequence += 1;
    return `${prefix}${this.sequence}_${shortHash(`${seed}:${this.sequence}`, 12)}`;
  }

  /** A poll: in progress while the script's polls last, then ended. */
  private advance(batch: StoredBatch): void {
    if (batch.ended) return;
    if (batch.pollsLeft > 0) batch.pollsLeft -= 1;
    else this.end(batch);
  }

  private cancel(batch: StoredBatch): void {
    if (batch.ended) return;
    batch.canceled = true;
    for (const item of batch.items) item.answer = { kind: 'canceled' };
    this.end(batch);
  }

  private end(batch: StoredBatch): void {
    batch.ended = true;
    if (batch.protocol !== 'openai') return;
    const { output, errors } = openAIResultFiles(batch);
    const store = (text: string, name: string) =>
      text === '' ? null : this.storeFile(`${batch.id}_${name}.jsonl`, 'batch_output', text).id;
    batch.outputFileId = store(output, 'output');
    batch.errorFileId = store(errors, 'error');
  }

  private storeFile(filename: string, purpose: string, text: string): StoredFile {
    const file = { id: this.nextId('file-offline-', text), filename, purpose, text, createdAt: CREATED_AT };
    this.files.set(file.id, file);
    return file;
  }

  private async register(
    protocol: Protocol,
    seed: string,
    entries: readonly BatchEntry[],
    control: BatchCreateControl,
    extra: Pick<StoredBatch, 'endpoint' | 'inputFileId' | 'problems'> = {},
  ): Promise<StoredBatch> {
    const id = this.nextId(protocol === 'anthropic' ? 'msgbatch_offline_' : 'batch_offline_', seed);
    const items: StoredItem[] = [];
    for (const { customId, path, body } of entries) {
      items.push({ customId, answer: await this.answer({ protocol, batchId: id, customId, path, body }) });
    }
    const batch: StoredBatch = {
      id,
      protocol,
      createdAt: CREATED_AT + this.sequence,
      items,
      pollsLeft: control.inProgressPolls ?? 0,
      ended: (extra.problems?.length ?? 0) > 0,
      canceled: false,
      ...extra,
    };
    this.batches.set(id, batch);
    return batch;
  }

  private async createAnthropic(
    prefix: string,
    body: unknown,
    control: BatchCreateControl,
  ): Promise<WireResponse> {
    const entries = anthropicEntries(body, prefix);
    if (typeof entries === 'string') return fail('anthropic', 400, entries);
    const batch = await this.register('anthropic', JSON.stringify(body), entries, control);
    return json(200, anthropicBatchView(batch, ''));
  }

  private async upload(request: BatchHttpRequest): Promise<WireResponse> {
    let form: FormData;
    try {
      form = await new Response(request.rawBody, {
        headers: { 'content-type': request.contentType ?? '' },
      }).formData();
    } catch {
      return fail('openai', 400, 'The upload must be multipart/form-data with "file" and "purpose"');
    }
    const file = form.get('file');
    const purpose = form.get('purpose');
    if (typeof file === 'string' || file === null || typeof purpose !== 'string') {
      return fail('openai', 400, 'The upload needs a "file" part and a "purpose" field');
    }
    const stored = this.storeFile(file.name, purpose, await file.text());
    return json(200, {
      id: stored.id,
      object: 'file',
      bytes: Buffer.byteLength(stored.text),
      created_at: stored.createdAt,
      filename: stored.filename,
      purpose: stored.purpose,
      status: 'processed',
      status_details: null,
      expires_at: null,
    });
  }

  private async createOpenAI(body: unknown, control: BatchCreateControl): Promise<WireResponse> {
    if (!isRecord(body)) return fail('openai', 400, 'The body must be a JSON object');
    const file = typeof body.input_file_id === 'string' ? this.files.get(body.input_file_id) : undefined;
    if (!file || file.purpose !== 'batch') {
      const named = String(body.input_file_id);
      return fail('openai', 400, `input_file_id: no file with purpose "batch" named ${named}`);
    }
    const problem = openAIEndpointProblem(body);
    if (problem !== undefined) return fail('openai', 400, problem);
    const endpoint = String(body.endpoint);
    // The real API validates the file after answering: a bad one makes the batch `failed`, not a 400.
    const { entries, problems } = openAIEntries(file.text, endpoint);
    const batch = await this.register('openai', file.text, problems.length > 0 ? [] : entries, control, {
      endpoint,
      inputFileId: file.id,
      problems,
    });
    const view = openAIBatchView(batch);
    return json(200, batch.ended ? view : { ...view, status: 'validating' });
  }
}
