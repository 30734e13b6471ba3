import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import { validateWorkflowInput } from '../definitions/inputValidation.js';
import type { ToolDefinition } from '../shared/modelTypes.js';
import { Names } from '../shared/names.js';
import type { RunWorkflowInput } from '../shared/runTypes.js';
import type { WorkflowCatalog } from '../shared/workflows.js';
import { invalidInput, problem, problemResponse } from './problem.js';
import { TERMINAL_STATUSES, toRunView } from './runView.js';

export interface StartWorkflowDeps {
  readonly workflows: WorkflowCatalog;
  /** Specs of the registered tools, by name: what agent steps may offer the model. */
  readonly tools: () => Readonly<Record<string, ToolDefinition>>;
  readonly getClient: (context: InvocationContext) => DurableClient;
  readonly config: () => Pick<Config, 'maxWaitSeconds'>;
  /** Largest accepted body; default 1 MiB. Anything bigger belongs in blob storage. */
  readonly maxBodyBytes?: number;
  /** How often `?wait` polls the run; default 250 ms. */
  readonly pollIntervalMs?: number;
}

export const MAX_BODY_BYTES = 1024 * 1024;
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;
const WAIT_POLL_INTERVAL_MS = 250;

export function isJsonContentType(header: string | null): boolean {
  const mediaType = header?.split(';')[0]?.trim() ?? '';
  return JSON_MEDIA_TYPE.test(mediaType);
}

/** Seconds to hold the request open for the result, from `?wait=`; a string is the reason it is invalid. */
export function parseWait(raw: string | null, maxSeconds: number): number | string {
  if (raw === null || raw === '') return 0;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > maxSeconds) {
    return `wait must be a whole number of seconds from 0 to ${maxSeconds} (got "${raw}")`;
  }
  return seconds;
}

type BodyRead = { ok: true; text: string } | { ok: false; tooLarge: true };

/** Reads the body, giving up as soon as it passes `maxBytes` (a declared Content-Length is checked first). */
export async function readBodyCapped(request: HttpRequest, maxBytes: number): Promise<BodyRead> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return { ok: false, tooLarge: true };
  if (!request.body) return { ok: true, text: '' };
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return { ok: false, tooLarge: true };
    }
    chunks.push(value);
  }
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: text.trim() === '' ? 'The body is empty' : (error as Error).message };
  }
}

/** `/api/runs/{id}` on the same host and route prefix as the request, without its query (and key). */
export function runUrlFor(requestUrl: string, instanceId: string): string {
  const url = new URL(requestUrl);
  const prefix = url.pathname.replace(/\/workflows\/[^/]*\/?$/, '');
  return `${url.origin}${prefix}/runs/${encodeURIComponent(instanceId)}`;
}

async function checkStatusResponse(
  client: DurableClient,
  request: HttpRequest,
  instanceId: string,
): Promise<HttpResponseInit> {
  const check = client.createCheckStatusResponse(request, instanceId);
  const payload = (await check.json()) as Record<string, unknown>;
  return {
    status: 202,
    headers: {
      'content-type': 'application/json',
      location: typeof payload.statusQueryGetUri === 'string' ? payload.statusQueryGetUri : '',
      'retry-after': '10',
    },
    jsonBody: { ...payload, runUrl: runUrlFor(request.url, instanceId) },
  };
}

/**
 * `POST /api/workflows/{name}`: validate the body against the workflow's input schema, start `runWorkflow`
 * with the definition and everything it references, answer 202 with the Durable status URLs and `runUrl`.
 * With `?wait=<s>`, a run that finishes in time is answered 200 with the same view as `GET /api/runs/{id}`.
 */
export function createStartWorkflow(deps: StartWorkflowDeps): HttpHandler {
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  const pollIntervalMs = deps.pollIntervalMs ?? WAIT_POLL_INTERVAL_MS;
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const name = request.params.name ?? '';
    const definition = deps.workflows.get(name);
    if (!definition) {
      return problemResponse(
        problem(
          'unknown-workflow',
          404,
          'Unknown workflow',
          `No workflow named "${name}". Known: ${deps.workflows.names().join(', ')}.`,
        ),
      );
    }
    const contentType = request.headers.get('content-type');
    if (!isJsonContentType(contentType)) {
      return problemResponse(
        problem(
          'unsupported-media-type',
          415,
          'Unsupported media type',
          `Send the input as application/json (got ${contentType ?? 'no content type'}).`,
        ),
      );
    }
    const wait = parseWait(request.query.get('wait'), deps.config().maxWaitSeconds);
    if (typeof wait === 'string') {
      return problemResponse(
        problem('invalid-query', 400, 'Invalid query parameter', wait, [{ parameter: 'wait', detail: wait }]),
      );
    }
    const body = await readBodyCapped(request, maxBodyBytes);
    if (!body.ok) {
      return problemResponse(
        problem(
          'body-too-large',
          413,
          'Body too large',
          `The input may be at most ${maxBodyBytes} bytes; put large documents in blob storage and pass a reference.`,
        ),
      );
    }
    const json = parseJson(body.text);
    if (!json.ok) return problemResponse(problem('invalid-json', 400, 'Malformed JSON', json.reason));
    const checked = validateWorkflowInput(definition, json.value);
    if (!checked.ok) {
      const errors = checked.problems.map((p) => ({ pointer: p.path, detail: p.message }));
      return problemResponse(invalidInput(name, errors));
    }

    const input: RunWorkflowInput = {
      definition,
      input: checked.value,
      workflows: deps.workflows.referencedBy(name),
      tools: { ...deps.tools() },
    };
    const client = deps.getClient(context);
    const instanceId = await client.startNew(Names.orchestrators.runWorkflow, { input });
    context.log(`Started workflow ${name} ${definition.version} as run ${instanceId}`);
    if (wait > 0) {
      const deadline = Date.now() + wait * 1_000;
      for (;;) {
        const status = await client.getStatus(instanceId, { showInput: false });
        if (TERMINAL_STATUSES.has(status.runtimeStatus)) {
          const view = toRunView(status);
          return {
            status: 200,
            headers: { location: runUrlFor(request.url, instanceId) },
            jsonBody: {
              ...view,
              workflow: view.workflow ?? name,
              version: view.version ?? definition.version,
            },
          };
        }
        const left = deadline - Date.now();
        if (left <= 0) break;
        await sleep(Math.min(pollIntervalMs, left));
      }
    }
    return checkStatusResponse(client, request, instanceId);
  };
}
