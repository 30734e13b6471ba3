/**
 * The parts of the Durable HTTP management API the JS DurableClient does not expose, or hides the answer
 * of (instance operations and events: it takes 410 Gone for success): one page of a
 * filtered instance list (it only fetches every page at once, without id prefix or page size) and an
 * instance's history (`getStatus(…, showHistory)` drops it, azure-functions-durable-js#620), and an
 * instance read that really leaves the input out (on the RPC path `getStatus` sends `showInput` only
 * when it is true, and the extension's default for one instance is true).
 *
 * Every call goes to the durable client's local RPC endpoint (`rpcBaseUrl` in the client binding, what the
 * DurableClient itself calls), never to the public webhook origin of `statusQueryGetUri`: on Azure that is
 * `https://<WEBSITE_HOSTNAME>/runtime/webhooks/durabletask/…`, a round trip through the app's own front
 * end, which App Service authentication, access restrictions and private endpoints block. The extension
 * serves the same HttpApiHandler on both (azure-functions-durable-extension,
 * src/WebJobs.Extensions.DurableTask/LocalHttpListener.cs → HttpApiHandler.HandleRequestAsync), on
 * loopback and without a key. The requests go through the app's DurableClient transport
 * (`durableClientHttp`), the one way the app talks to the extension.
 */
import type { DurableClient } from 'durable-functions';
import { durableClientHttp, type DurableClientHttp } from '../functions/durableClientTransport.js';

const CONTINUATION_HEADER = 'x-ms-continuation-token';
const REQUEST_TIMEOUT_MS = 30_000;

/** An instance as the Durable HTTP API reports it. */
export interface DurableInstance {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly input: unknown;
  readonly customStatus: unknown;
  readonly output: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly historyEvents?: Record<string, unknown>[];
}

export interface InstancePageRequest {
  readonly runtimeStatus?: readonly string[];
  readonly createdTimeFrom?: Date;
  readonly createdTimeTo?: Date;
  readonly instanceIdPrefix?: string;
  readonly top: number;
  readonly continuationToken?: string;
  readonly showInput?: boolean;
}

export interface InstancePage {
  readonly instances: DurableInstance[];
  readonly continuationToken?: string;
}

/** The Durable HTTP API refused a request (`status` is its HTTP status) or could not be reached. */
export class DurableManagementError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An instance operation as the extension answered it: 202, 410 (not in a state for it) or 404. */
export type OperationOutcome = 'accepted' | 'gone' | 'notFound';
export type InstanceOperation = 'terminate' | 'suspend' | 'resume' | 'rewind';

export interface DurableManagement {
  listInstances(request: InstancePageRequest): Promise<InstancePage>;
  /**
   * POST `instances/{id}/{operation}?reason=`. Not `DurableClient.terminate/suspend/resume`: they resolve
   * on 410 Gone as on 202 (lib/src/durableClient/DurableClient.js), so an operator would be told a run was
   * terminated that had finished in the meantime; and they put the reason into the query unencoded.
   */
  operate(instanceId: string, operation: InstanceOperation, reason: string): Promise<OperationOutcome>;
  /** POST `instances/{id}/raiseEvent/{name}` with a JSON body; the client's raiseEvent also hides 410. */
  raiseEvent(instanceId: string, eventName: string, data: unknown): Promise<OperationOutcome>;
  /** Undefined for an unknown id. */
  getInstance(
    instanceId: string,
    options?: { history?: boolean; input?: boolean },
  ): Promise<DurableInstance | undefined>;
}

/**
 * The client binding's local RPC base URL (`http://127.0.0.1:<port>/durabletask/` from the extension's
 * LocalHttpListener), read from the client the library built. `DurableClient` keeps the binding in its
 * `clientData` field (durable-functions 3.x, lib/src/durableClient/DurableClient.js): if a release moves
 * it, this fails with a message rather than falling back to the public origin.
 */
export function rpcBaseUrl(client: DurableClient): URL {
  const data = (client as unknown as { clientData?: { rpcBaseUrl?: unknown } }).clientData;
  const base = data?.rpcBaseUrl;
  if (typeof base !== 'string' || base === '') {
    throw new DurableManagementError(
      'The durable client binding has no rpcBaseUrl: this app talks to the Durable extension only through its local RPC endpoint (Durable Functions extension 2.4 or later, extension bundle v3+).',
      502,
    );
  }
  return new URL(base.endsWith('/') ? base : `${base}/`);
}

/** `…/instances` on the client's RPC endpoint. */
export function instancesUrl(client: DurableClient): URL {
  return new URL('instances', rpcBaseUrl(client));
}

/** The path and status of a failed call, never the URL. */
function failure(status: number, data: unknown, what: string): DurableManagementError {
  const text = (typeof data === 'string' ? data : JSON.stringify(data)).slice(0, 300);
  return new DurableManagementError(
    `The Durable management API answered ${status} to ${what}${text ? `: ${text}` : ''}`,
    status,
  );
}

/**
 * The end of a listing: no token, an empty one (the extension always sends the header), or "bnVsbA==",
 * base64 of "null", which Azure Storage returned at the end (azure-functions-durable-extension#1174) and
 * which would restart the listing if sent back.
 */
function nextToken(header: string | string[] | undefined): string | undefined {
  const token = Array.isArray(header) ? header[0] : header;
  if (token === undefined || token.trim() === '') return undefined;
  if (Buffer.from(token, 'base64').toString('utf8') === 'null') return undefined;
  return token;
}

function outcomeOf(status: number, data: unknown, what: string): OperationOutcome {
  if (status === 202) return 'accepted';
  if (status === 410) return 'gone';
  if (status === 404) return 'notFound';
  throw failure(status, data, what);
}

export function createDurableManagement(
  client: DurableClient,
  http: Pick<DurableClientHttp, 'get' | 'post'> = durableClientHttp,
): DurableManagement {
  const base = instancesUrl(client);
  const call = async (
    url: URL,
    what: string,
    headers: Record<string, string> = {},
    post?: { body: string | undefined },
  ) => {
    try {
      const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      return post
        ? await http.post(url.href, post.body, { signal })
        : await http.get(url.href, { headers, signal });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new DurableManagementError(
        `Could not reach the Durable management API for ${what}: ${reason}`,
        502,
      );
    }
  };

  return {
    async listInstances(request) {
      const url = new URL(base);
      const query = url.searchParams;
      query.set('top', String(request.top));
      query.set('showInput', String(request.showInput ?? false));
      if (request.runtimeStatus?.length) query.set('runtimeStatus', request.runtimeStatus.join(','));
      if (request.createdTimeFrom) query.set('createdTimeFrom', request.createdTimeFrom.toISOString());
      if (request.createdTimeTo) query.set('createdTimeTo', request.createdTimeTo.toISOString());
      if (request.instanceIdPrefix) query.set('instanceIdPrefix', request.instanceIdPrefix);
      const headers: Record<string, string> = request.continuationToken
        ? { [CONTINUATION_HEADER]: request.continuationToken }
        : {};
      const response = await call(url, 'the instance list', headers);
      if (response.status !== 200) throw failure(response.status, response.data, 'the instance list');
      if (!Array.isArray(response.data)) {
        throw new DurableManagementError(
          'The Durable management API answered the instance list with no list',
          502,
        );
      }
      const next = nextToken(response.headers[CONTINUATION_HEADER]);
      return {
        instances: response.data as DurableInstance[],
        ...(next ? { continuationToken: next } : {}),
      };
    },

    async operate(instanceId, operation, reason) {
      const url = new URL(`instances/${encodeURIComponent(instanceId)}/${operation}`, rpcBaseUrl(client));
      url.searchParams.set('reason', reason);
      const what = `${operation} of instance ${instanceId}`;
      const response = await call(url, what, {}, { body: undefined });
      return outcomeOf(response.status, response.data, what);
    },

    async raiseEvent(instanceId, eventName, data) {
      const url = new URL(
        `instances/${encodeURIComponent(instanceId)}/raiseEvent/${encodeURIComponent(eventName)}`,
        rpcBaseUrl(client),
      );
      const what = `event ${eventName} for instance ${instanceId}`;
      // The extension takes only application/json bodies (HttpApiHandler.HandleRaiseEventRequestAsync).
      const response = await call(url, what, {}, { body: JSON.stringify(data ?? null) });
      return outcomeOf(response.status, response.data, what);
    },

    async getInstance(instanceId, options = {}) {
      const url = new URL(`instances/${encodeURIComponent(instanceId)}`, rpcBaseUrl(client));
      url.searchParams.set('showInput', String(options.input ?? true));
      if (options.history) {
        url.searchParams.set('showHistory', 'true');
        url.searchParams.set('showHistoryOutput', 'true');
      }
      const response = await call(url, `instance ${instanceId}`);
      if (response.status === 404) return undefined;
      // 202 is the answer for a run still in flight.
      if (response.status !== 200 && response.status !== 202) {
        throw failure(response.status, response.data, `instance ${instanceId}`);
      }
      if (typeof response.data !== 'object' || response.data === null) {
        throw new DurableManagementError(
          `The Durable management API answered instance ${instanceId} with no status`,
          502,
        );
      }
      return response.data as DurableInstance;
    },
  };
}
