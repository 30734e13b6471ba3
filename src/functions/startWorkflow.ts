import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/app.js';
import { createHash } from 'node:crypto';
import type { ToolDefinition } from '../shared/modelTypes.js';
import { IdempotencyKey } from '../shared/requestTypes.js';
import type { WorkflowCatalog } from '../shared/workflows.js';
import { decodeUtf8, parseJsonText, type JsonTextProblem } from '../shared/jsonText.js';
import { invalidInput, jsonTextProblem, problem, problemResponse, type ProblemDetails } from './problem.js';
import { createRunStarter, idempotentInstanceId, type RunStarter } from './runStarter.js';
import { readCallback } from './getRun.js';
import { isFinished } from '../shared/operatorTypes.js';
import { toRunView } from './runView.js';

export interface StartWorkflowDeps {
  readonly workflows: WorkflowCatalog;
  /** Specs of the registered tools, by name: what agent steps may offer the model. */
  readonly tools: () => Readonly<Record<string, ToolDefinition>>;
  /** The shared run-starting path; built from `workflows` and `tools` (callbacks off) when not given. */
  readonly starter?: RunStarter;
  readonly getClient: (context: InvocationContext) => DurableClient;
  /** `returnDurableManagementUrls` unset counts as off. */
  readonly config: () => Pick<Config, 'maxWaitSeconds'> &
    Partial<Pick<Config, 'returnDurableManagementUrls'>>;
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

type BodyRead =
  | { ok: true; text: string }
  | { ok: false; tooLarge: true }
  | { ok: false; tooLarge: false; problem: JsonTextProblem };

/**
 * Reads the body as strict UTF-8 (see `decodeUtf8`), giving up as soon as it passes `maxBytes` (a declared
 * Content-Length is checked first).
 */
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
  const decoded = decodeUtf8(Buffer.concat(chunks));
  return decoded.ok ? decoded : { ok: false, tooLarge: false, problem: decoded.problem };
}

/** `/api/runs/{id}` on the same host and route prefix as the request, without its query (and key). */
export function runUrlFor(requestUrl: string, instanceId: string): string {
  const url = new URL(requestUrl);
  const prefix = url.pathname.replace(/\/workflows\/[^/]*\/?$/, '');
  return `${url.origin}${prefix}/runs/${encodeURIComponent(instanceId)}`;
}

/** The caller's own routes for a run (function key, audited): `POST /api/runs/{id}/approve|reject|cancel`. */
export function runActionUrlsFor(
  requestUrl: string,
  instanceId: string,
): { approveUrl: string; rejectUrl: string; cancelUrl: string } {
  const runUrl = runUrlFor(requestUrl, instanceId);
  return { approveUrl: `${runUrl}/approve`, rejectUrl: `${runUrl}/reject`, cancelUrl: `${runUrl}/cancel` };
}

/**
 * The 202: `id`, `runUrl` and the caller's own action routes, and Location at `runUrl`. Only with
 * `RETURN_DURABLE_MANAGEMENT_URLS=true` also the Durable check-status payload with its URLs at the origin
 * the caller used (as `createCheckStatusResponse` builds it, built directly rather than read back out of
 * that response's body stream, which cost more than the rest of the start), and Location at its status
 * URL as before: those URLs carry the system key, which can read, terminate and purge any caller's runs.
 */
function acceptedResponse(
  client: DurableClient,
  request: HttpRequest,
  instanceId: string,
  withManagementUrls: boolean,
): HttpResponseInit {
  const runUrl = runUrlFor(request.url, instanceId);
  const own = { id: instanceId, runUrl, ...runActionUrlsFor(request.url, instanceId) };
  const headers = { 'content-type': 'application/json', 'retry-after': '10' };
  if (!withManagementUrls) {
    return { status: 202, headers: { ...headers, location: runUrl }, jsonBody: own };
  }
  const callerOrigin = new URL(request.url).origin;
  const links = client.createHttpManagementPayload(instanceId) as unknown as Record<string, unknown>;
  const payload: Record<string, string> = {};
  for (const [key, value] of Object.entries(links)) {
    if (typeof value !== 'string') continue;
    payload[key] = /^https?:\/\//i.test(value) ? value.replace(new URL(value).origin, callerOrigin) : value;
  }
  return {
    status: 202,
    headers: { ...headers, location: payload.statusQueryGetUri ?? runUrl },
    jsonBody: { ...payload, ...own },
  };
}

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const CALLBACK_URL_HEADER = 'callback-url';

/**
 * Who is calling, for idempotency scopes: the App Service authentication principal when there is one,
 * else (a hash of) the key the request was authorized with. Two callers never share a run by key.
 */
export function callerScope(request: HttpRequest): string {
  const principal = request.headers.get('x-ms-client-principal-id');
  if (principal) return `principal:${principal}`;
  const key = request.headers.get('x-functions-key') ?? request.query.get('code');
  if (!key) return 'anonymous';
  return `key:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** The input and callback URL from a parsed body: a top-level `callbackUrl` is lifted out unless the schema owns it. */
export function splitCallbackUrl(
  body: unknown,
  schemaDeclaresCallbackUrl: boolean,
): { input: unknown; callbackUrl?: unknown } {
  if (schemaDeclaresCallbackUrl || typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { input: body };
  }
  if (!Object.hasOwn(body, 'callbackUrl')) return { input: body };
  const { callbackUrl, ...input } = body as Record<string, unknown>;
  return { input, callbackUrl };
}

const badRequest = (slug: string, title: string, detail: string, errors?: ProblemDetails['errors']) =>
  problemResponse(problem(slug, 400, title, detail, errors));

/**
 * `POST /api/workflows/{name}`: validate the body against the workflow's input schema, start `runWorkflow`
 * with the definition and everything it references, answer 202 with `runUrl` and the run's action routes
 * (plus the Durable management URLs only with `RETURN_DURABLE_MANAGEMENT_URLS=true`).
 * With `?wait=<s>`, a run that finishes in time is answered 200 with the same view as `GET /api/runs/{id}`.
 * With `Idempotency-Key`, the same caller and key always reach the same run: a repeat of a finished run
 * answers 200 with it, of an unfinished one 202 pointing at it; nothing is started twice.
 */
export function createStartWorkflow(deps: StartWorkflowDeps): HttpHandler {
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  const pollIntervalMs = deps.pollIntervalMs ?? WAIT_POLL_INTERVAL_MS;
  const starter =
    deps.starter ??
    createRunStarter({ workflows: deps.workflows, tools: deps.tools, callbacksEnabled: () => false });
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
      return badRequest('invalid-query', 'Invalid query parameter', wait, [
        { parameter: 'wait', detail: wait },
      ]);
    }
    const rawKey = request.headers.get(IDEMPOTENCY_KEY_HEADER);
    const key = rawKey === null ? undefined : IdempotencyKey.safeParse(rawKey);
    if (key && !key.success) {
      const detail = `Idempotency-Key ${key.error.issues[0]?.message ?? 'is invalid'}`;
      return badRequest('invalid-idempotency-key', 'Invalid Idempotency-Key header', detail);
    }
    const body = await readBodyCapped(request, maxBodyBytes);
    if (!body.ok && !body.tooLarge) return jsonTextProblem(body.problem);
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
    const json = parseJsonText(body.text);
    if (!json.ok) return jsonTextProblem(json.problem);

    const schemaProperties = definition.input.properties;
    const ownsCallbackUrl =
      typeof schemaProperties === 'object' && schemaProperties !== null && 'callbackUrl' in schemaProperties;
    const split = splitCallbackUrl(json.value, ownsCallbackUrl);
    const headerCallback = request.headers.get(CALLBACK_URL_HEADER);
    if (split.callbackUrl !== undefined && typeof split.callbackUrl !== 'string') {
      const detail = 'callbackUrl must be a string URL';
      return badRequest('invalid-callback', 'Invalid callback URL', detail, [
        { pointer: '/callbackUrl', detail },
      ]);
    }
    if (headerCallback !== null && split.callbackUrl !== undefined && headerCallback !== split.callbackUrl) {
      const detail = "The Callback-Url header and the body's callbackUrl differ; send one of them";
      return badRequest('invalid-callback', 'Invalid callback URL', detail);
    }
    const callbackUrl = headerCallback ?? split.callbackUrl;

    const prepared = await starter.prepare({ workflow: name, input: split.input, callbackUrl });
    if (prepared.kind === 'unknown_workflow') {
      return problemResponse(problem('unknown-workflow', 404, 'Unknown workflow', prepared.message));
    }
    if (prepared.kind === 'invalid_input') {
      const errors = prepared.problems.map((p) => ({ pointer: p.path, detail: p.message }));
      return problemResponse(invalidInput(name, errors));
    }
    if (prepared.kind === 'invalid_callback') {
      return badRequest('invalid-callback', 'Invalid callback URL', prepared.message);
    }
    if (prepared.kind === 'unpriced_budget') {
      return badRequest('unpriced-deployment', 'Budget cannot be enforced', prepared.message);
    }
    if (prepared.kind === 'tools_unavailable') {
      return problemResponse(problem('tools-unavailable', 503, 'Tools unavailable', prepared.message));
    }

    const client = deps.getClient(context);
    const instanceId = key?.success ? idempotentInstanceId(callerScope(request), key.data) : undefined;
    const started = await starter.start(client, prepared.input, instanceId);
    if (started.existing) {
      const existingWorkflow = toRunView(started.existing).workflow;
      if (existingWorkflow !== null && existingWorkflow !== name) {
        return problemResponse(
          problem(
            'idempotency-key-reused',
            409,
            'Idempotency key already used',
            `This Idempotency-Key already started a run of "${existingWorkflow}" (${started.instanceId}); use a new key for "${name}".`,
          ),
        );
      }
      if (started.differentRequest) {
        return problemResponse(
          problem(
            'idempotency-key-reused',
            422,
            'Idempotency key reused with a different request',
            `This Idempotency-Key already started run ${started.instanceId} with a different body; ` +
              'send the same body to get that run again, or use a new key for a new run.',
          ),
          { runId: started.instanceId, runUrl: runUrlFor(request.url, started.instanceId) },
        );
      }
      context.log(`Idempotency-Key repeat: answering with existing run ${started.instanceId}`);
    } else {
      context.log(`Started workflow ${name} ${definition.version} as run ${started.instanceId}`);
    }
    const existing = started.existing;
    let finished = existing && isFinished(existing.runtimeStatus) ? existing : undefined;
    if (!finished && wait > 0) finished = await waitForRun(client, started.instanceId, wait, pollIntervalMs);
    if (finished) {
      const view = {
        ...toRunView(finished),
        callback: await readCallback(client, started.instanceId, callbackUrl !== undefined),
      };
      return {
        status: 200,
        headers: {
          location: runUrlFor(request.url, started.instanceId),
          ...(started.existing ? { 'idempotent-replayed': 'true' } : {}),
        },
        jsonBody: { ...view, workflow: view.workflow ?? name, version: view.version ?? definition.version },
      };
    }
    const accepted = acceptedResponse(
      client,
      request,
      started.instanceId,
      deps.config().returnDurableManagementUrls === true,
    );
    return existing
      ? {
          ...accepted,
          headers: { ...(accepted.headers as Record<string, string>), 'idempotent-replayed': 'true' },
        }
      : accepted;
  };
}

/**
 * Polls until the run ends or `waitSeconds` pass: its status once finished, else undefined. Shared by
 * `?wait` here and the MCP endpoint's tool calls (mcpEndpoint.ts).
 */
export async function waitForRun(
  client: DurableClient,
  instanceId: string,
  waitSeconds: number,
  pollIntervalMs = WAIT_POLL_INTERVAL_MS,
): Promise<DurableOrchestrationStatus | undefined> {
  const deadline = Date.now() + waitSeconds * 1_000;
  for (;;) {
    const status = await client.getStatus(instanceId, { showInput: false });
    if (isFinished(status.runtimeStatus)) return status;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(pollIntervalMs, left));
  }
}
