/**
 * The Durable Functions HTTP API (HttpApiHandler.cs) over a DurableBackend: the routes the JS
 * DurableClient calls on `rpcBaseUrl`, and the same routes under /runtime/webhooks/durabletask.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BadRequest,
  boolParam,
  dateParam,
  instanceIdProblem,
  isTerminal,
  positiveIntParam,
  queryValue,
  secondsParam,
  statusListParam,
} from '../http/durableQuery.js';
import type { CommandOutcome, DurableBackend, InstanceStatus } from './backend.js';
import { managementUrls, type PayloadOptions } from './bindingPayload.js';

export interface DurableApiRequest {
  method: string;
  /** Path segments after the API root, percent-decoded. */
  segments: readonly string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The URL as the client addressed it: its origin goes into the management links. */
  url: URL;
  /** Aborted when the client goes away (ends create-and-wait polling early). */
  signal?: AbortSignal;
}

export interface DurableApiResponse {
  status: number;
  headers: Record<string, string>;
  /** Already serialized; undefined for an empty body. */
  body?: string;
}

export interface DurableApiOptions {
  backend: DurableBackend;
  systemKey: string;
  connectionName?: string;
}

const CONTINUATION_HEADER = 'x-ms-continuation-token';

function json(status: number, value: unknown, headers: Record<string, string> = {}): DurableApiResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value ?? null),
  };
}
const message = (status: number, text: string, headers?: Record<string, string>): DurableApiResponse =>
  json(status, { message: text }, headers);
const empty = (status: number): DurableApiResponse => ({ status, headers: {} });

function methodNotAllowed(allowed: string[]): DurableApiResponse {
  return message(405, `This Durable HTTP API route accepts ${allowed.join(', ')} only.`, {
    allow: allowed.join(', '),
  });
}

/** StatusResponsePayload: `input` and `output` are always present (the JS client requires them). */
function statusPayload(status: InstanceStatus, showInput: boolean): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    input: showInput ? (status.input ?? null) : null,
    customStatus: status.customStatus ?? null,
    output: status.output ?? null,
    createdTime: status.createdTime,
    lastUpdatedTime: status.lastUpdatedTime,
  };
  if (status.historyEvents) payload.historyEvents = status.historyEvents;
  return payload;
}

function parseJsonBody(body: Buffer): { value: unknown } | undefined {
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') return { value: undefined };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

export class DurableHttpApi {
  readonly #opts: DurableApiOptions;

  constructor(opts: DurableApiOptions) {
    this.#opts = opts;
  }

  get #backend(): DurableBackend {
    return this.#opts.backend;
  }

  async handle(req: DurableApiRequest): Promise<DurableApiResponse> {
    try {
      return await this.#route(req);
    } catch (error) {
      if (error instanceof BadRequest) return message(400, error.message);
      throw error;
    }
  }

  async #route(req: DurableApiRequest): Promise<DurableApiResponse> {
    const [controller = '', ...rest] = req.segments;
    const method = req.method.toUpperCase();
    const hub = queryValue(req.query, 'taskHub');
    if (hub && hub.toLowerCase() !== this.#backend.taskHubName.toLowerCase()) {
      return message(
        404,
        `Task hub '${hub}' is not served here; this devhost serves '${this.#backend.taskHubName}'.`,
      );
    }
    switch (controller.toLowerCase()) {
      case 'orchestrators': {
        const [functionName, instanceId, ...extra] = rest;
        if (!functionName || extra.length > 0)
          return message(404, 'Expected orchestrators/{functionName}[/{instanceId}].');
        if (method !== 'POST') return methodNotAllowed(['POST']);
        return this.#start(req, functionName, instanceId);
      }
      case 'entities':
        return message(501, 'Durable entities are not supported by devhost.');
      case 'instances':
        return this.#instances(req, method, rest);
      default:
        return message(404, `Unknown Durable HTTP API route '/${req.segments.join('/')}'.`);
    }
  }

  async #instances(
    req: DurableApiRequest,
    method: string,
    rest: readonly string[],
  ): Promise<DurableApiResponse> {
    const [id, operation, eventName, ...extra] = rest;
    if (extra.length > 0) return message(404, 'Unknown Durable HTTP API route.');
    if (id === undefined || id === '') {
      if (method === 'GET') return this.#list(req);
      if (method === 'DELETE') return this.#purgeByFilter(req);
      return methodNotAllowed(['GET', 'DELETE']);
    }
    if (operation === undefined) {
      if (method === 'GET') return this.#status(req, id);
      if (method === 'DELETE') return this.#purge(id);
      return methodNotAllowed(['GET', 'DELETE']);
    }
    const op = operation.toLowerCase();
    if (op === 'raiseevent') {
      if (!eventName) return message(404, 'Expected instances/{instanceId}/raiseEvent/{eventName}.');
      if (method !== 'POST') return methodNotAllowed(['POST']);
      return this.#raiseEvent(req, id, eventName);
    }
    if (eventName !== undefined) return message(404, 'Unknown Durable HTTP API route.');
    const reason = queryValue(req.query, 'reason');
    const commands: Record<string, () => CommandOutcome> = {
      terminate: () => this.#backend.terminate(id, reason),
      suspend: () => this.#backend.suspend(id, reason),
      resume: () => this.#backend.resume(id, reason),
    };
    const command = commands[op];
    if (!command && op !== 'rewind' && op !== 'restart') {
      return message(404, `Unknown instance operation '${operation}'.`);
    }
    if (method !== 'POST') return methodNotAllowed(['POST']);
    if (op === 'rewind') return this.#rewind(id, reason);
    if (op === 'restart') return this.#restart(req, id);
    const status = this.#backend.getStatus(id);
    if (!status) return empty(404);
    if (isTerminal(status.runtimeStatus)) return empty(410);
    return this.#outcome(command ? command() : 'notFound');
  }

  #outcome(outcome: CommandOutcome): DurableApiResponse {
    switch (outcome) {
      case 'accepted':
        return empty(202);
      case 'notFound':
        return empty(404);
      case 'gone':
        return empty(410);
      case 'badState':
        return message(412, 'The instance is not in a state that allows this operation.');
    }
  }

  #checkStatus(req: DurableApiRequest, instanceId: string): DurableApiResponse {
    const links = managementUrls(this.#payloadOptions(req), instanceId);
    // CreateCheckStatusResponseMessage leaves rewindPostUri out.
    const { rewindPostUri: _rewind, ...body } = links;
    return json(202, body, { location: links.statusQueryGetUri, 'retry-after': '10' });
  }

  #payloadOptions(req: DurableApiRequest): PayloadOptions {
    return {
      origin: req.url.origin,
      taskHubName: this.#backend.taskHubName,
      systemKey: this.#opts.systemKey,
      connectionName: this.#opts.connectionName,
    };
  }

  async #start(
    req: DurableApiRequest,
    functionName: string,
    instanceId?: string,
  ): Promise<DurableApiResponse> {
    if (instanceId !== undefined) {
      const problem = instanceIdProblem(instanceId);
      if (problem) return message(400, problem);
    }
    const wait = this.#waitOptions(req.query);
    const parsed = parseJsonBody(req.body);
    if (!parsed)
      return message(400, 'Invalid JSON content: the request body must be JSON (or empty for no input).');
    const version = queryValue(req.query, 'version');
    const request = {
      orchestratorName: functionName,
      instanceId,
      input: parsed.value,
      ...(version ? { version } : {}),
    };
    // The 202 goes out once the start is committed either way; grouped, a burst of starts commits once.
    const outcome = this.#backend.startGrouped
      ? await this.#backend.startGrouped(request)
      : this.#backend.start(request);
    if (outcome.kind === 'unknownOrchestrator') {
      return message(
        404,
        `The function '${functionName}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
    }
    if (outcome.kind === 'conflict') {
      // StartNewAsync throws OrchestrationAlreadyExistsException, which HttpApiHandler.HandleRequestAsync
      // answers with its catch-all: 500 and CreateErrorResponse's body (HttpRequestMessageExtensions.cs).
      return json(500, {
        Message: 'Something went wrong while processing your request',
        ExceptionMessage: `An Orchestration instance with the status ${outcome.status} already exists.`,
        ExceptionType: 'DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException',
        StackTrace: null,
      });
    }
    return this.#respondAfterStart(req, outcome.instanceId, wait);
  }

  #waitOptions(query: URLSearchParams): { timeoutMs: number; intervalMs: number } | undefined {
    const timeout = secondsParam(query, 'timeout');
    const interval = secondsParam(query, 'pollingInterval');
    if (timeout === undefined || interval === undefined) return undefined;
    if (interval > timeout) {
      throw new BadRequest(
        `Query parameter 'pollingInterval' (${interval}s) must not exceed 'timeout' (${timeout}s).`,
      );
    }
    return { timeoutMs: timeout * 1000, intervalMs: Math.max(10, interval * 1000) };
  }

  async #respondAfterStart(
    req: DurableApiRequest,
    instanceId: string,
    wait: { timeoutMs: number; intervalMs: number } | undefined,
  ): Promise<DurableApiResponse> {
    if (!wait) return this.#checkStatus(req, instanceId);
    const deadline = Date.now() + wait.timeoutMs;
    for (;;) {
      const status = this.#backend.getStatus(instanceId);
      if (status?.runtimeStatus === 'Completed') return json(200, status.output ?? null);
      if (status && isTerminal(status.runtimeStatus)) return this.#statusResponse(req, status, true);
      const remaining = deadline - Date.now();
      if (remaining <= 0 || req.signal?.aborted) return this.#checkStatus(req, instanceId);
      try {
        await sleep(Math.min(remaining, wait.intervalMs), undefined, { signal: req.signal });
      } catch {
        return this.#checkStatus(req, instanceId);
      }
    }
  }

  #status(req: DurableApiRequest, instanceId: string): DurableApiResponse {
    const showHistory = boolParam(req.query, 'showHistory', false);
    const showHistoryOutput = boolParam(req.query, 'showHistoryOutput', false);
    const showInput = boolParam(req.query, 'showInput', true);
    boolParam(req.query, 'returnInternalServerErrorOnFailure', false);
    const status = this.#backend.getStatus(instanceId, { showHistory, showHistoryOutput, showInput });
    // The extension answers an unknown id with an empty 404; the JS client turns it into an error.
    if (!status) return empty(404);
    return this.#statusResponse(req, status, showInput);
  }

  #statusResponse(req: DurableApiRequest, status: InstanceStatus, showInput: boolean): DurableApiResponse {
    const payload = statusPayload(status, showInput);
    switch (status.runtimeStatus) {
      case 'Running':
      case 'Pending':
      case 'ContinuedAsNew':
      case 'Suspended':
        return json(202, payload, { location: req.url.href, 'retry-after': '5' });
      case 'Failed':
        return json(boolParam(req.query, 'returnInternalServerErrorOnFailure', false) ? 500 : 200, payload);
      default:
        return json(200, payload);
    }
  }

  #list(req: DurableApiRequest): DurableApiResponse {
    const header = req.headers[CONTINUATION_HEADER];
    const continuationToken = (Array.isArray(header) ? header[0] : header) || undefined;
    const showInput = boolParam(req.query, 'showInput', true);
    const request = {
      instanceIdPrefix: queryValue(req.query, 'instanceIdPrefix') || undefined,
      createdTimeFrom: dateParam(req.query, 'createdTimeFrom'),
      createdTimeTo: dateParam(req.query, 'createdTimeTo'),
      runtimeStatus: statusListParam(req.query, 'runtimeStatus'),
      top: positiveIntParam(req.query, 'top'),
      continuationToken,
      showInput,
    };
    let page;
    try {
      page = this.#backend.listInstances(request);
    } catch (error) {
      if (!continuationToken) throw error;
      throw new BadRequest(`Invalid ${CONTINUATION_HEADER} header: ${(error as Error).message}`);
    }
    const headers: Record<string, string> = page.continuationToken
      ? { [CONTINUATION_HEADER]: page.continuationToken }
      : {};
    return json(
      200,
      page.instances.map((s) => statusPayload(s, showInput)),
      headers,
    );
  }

  #purge(instanceId: string): DurableApiResponse {
    const status = this.#backend.getStatus(instanceId);
    if (!status) return empty(404);
    if (!isTerminal(status.runtimeStatus)) {
      return json(
        412,
        `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${instanceId} has status ${status.runtimeStatus}`,
      );
    }
    const deleted = this.#backend.purge(instanceId);
    return deleted === 0 ? empty(404) : json(200, { instancesDeleted: deleted });
  }

  #purgeByFilter(req: DurableApiRequest): DurableApiResponse {
    const createdTimeFrom = dateParam(req.query, 'createdTimeFrom');
    if (!createdTimeFrom) return message(400, "Please provide value for 'createdTimeFrom' parameter.");
    const createdTimeTo = dateParam(req.query, 'createdTimeTo') ?? new Date();
    const runtimeStatus = statusListParam(req.query, 'runtimeStatus');
    const deleted = this.#backend.purgeByFilter({ createdTimeFrom, createdTimeTo, runtimeStatus });
    return deleted === 0 ? empty(404) : json(200, { instancesDeleted: deleted });
  }

  #raiseEvent(req: DurableApiRequest, instanceId: string, eventName: string): DurableApiResponse {
    const status = this.#backend.getStatus(instanceId);
    if (!status) return empty(404);
    if (isTerminal(status.runtimeStatus)) return empty(410);
    const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (contentType && contentType !== 'application/json' && req.body.length > 0) {
      return message(400, 'Only application/json request content is supported');
    }
    const parsed = parseJsonBody(req.body);
    if (!parsed) return message(400, 'Invalid JSON content in the event payload.');
    return this.#outcome(this.#backend.raiseEvent(instanceId, eventName, parsed.value ?? null));
  }

  #rewind(instanceId: string, reason: string | undefined): DurableApiResponse {
    const status = this.#backend.getStatus(instanceId);
    // Bodies are JSON strings like the extension's: the JS client uses them as the error message.
    if (!status) return json(404, `No orchestration with instance ID "${instanceId}" found.`);
    if (status.runtimeStatus !== 'Failed') {
      return json(
        412,
        `This orchestration has status ${status.runtimeStatus}, but only orchestrations in the "Failed" state can be rewound.`,
      );
    }
    const outcome = this.#backend.rewind(instanceId, reason);
    if (outcome === 'notFound') return json(404, `No orchestration with instance ID "${instanceId}" found.`);
    if (outcome === 'badState') return json(412, 'Only orchestrations in the "Failed" state can be rewound.');
    return empty(outcome === 'gone' ? 410 : 202);
  }

  async #restart(req: DurableApiRequest, instanceId: string): Promise<DurableApiResponse> {
    const withNewId = boolParam(req.query, 'restartWithNewInstanceId', true);
    const wait = this.#waitOptions(req.query);
    const result = this.#backend.restart(instanceId, withNewId);
    // HandleRestartInstanceRequestAsync maps an unknown id (ArgumentException) to 400.
    if (result.kind === 'notFound')
      return message(400, 'InstanceId does not match a valid orchestration instance.');
    return this.#respondAfterStart(req, result.instanceId, wait);
  }
}
