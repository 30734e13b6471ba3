/**
 * The parts of the Durable HTTP management API the JS DurableClient does not expose: one page of a
 * filtered instance list (it only fetches every page at once, without id prefix or page size) and an
 * instance's history (`getStatus(…, showHistory)` drops it, azure-functions-durable-js#620).
 * URLs come from the client's own management payload, so the same code talks to the extension in Azure
 * (system key in `code=`) and to devhost.
 */
import type { DurableClient } from 'durable-functions';

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

export interface DurableManagement {
  listInstances(request: InstancePageRequest): Promise<InstancePage>;
  /** Undefined for an unknown id. */
  getInstance(
    instanceId: string,
    options?: { history?: boolean; input?: boolean },
  ): Promise<DurableInstance | undefined>;
}

/** `…/instances` with the task hub, connection and key the client uses, from its management payload. */
export function instancesUrl(client: Pick<DurableClient, 'createHttpManagementPayload'>): URL {
  const url = new URL(client.createHttpManagementPayload('placeholder').statusQueryGetUri);
  url.pathname = url.pathname.replace(/\/instances\/[^/]*$/, '/instances');
  return url;
}

/** The path and status of a failed call, never the URL: its `code=` is the system key. */
async function failure(response: Response, what: string): Promise<DurableManagementError> {
  const text = (await response.text()).slice(0, 300);
  return new DurableManagementError(
    `The Durable management API answered ${response.status} to ${what}${text ? `: ${text}` : ''}`,
    response.status,
  );
}

export function createDurableManagement(
  client: Pick<DurableClient, 'createHttpManagementPayload'>,
  fetchImpl: typeof fetch = fetch,
): DurableManagement {
  const base = instancesUrl(client);
  const call = async (url: URL, what: string, headers: Record<string, string> = {}) => {
    try {
      return await fetchImpl(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
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
      if (!response.ok) throw await failure(response, 'the instance list');
      const token = response.headers.get(CONTINUATION_HEADER);
      return {
        instances: (await response.json()) as DurableInstance[],
        ...(token ? { continuationToken: token } : {}),
      };
    },

    async getInstance(instanceId, options = {}) {
      const url = new URL(base);
      url.pathname = `${url.pathname}/${encodeURIComponent(instanceId)}`;
      url.searchParams.set('showInput', String(options.input ?? true));
      if (options.history) {
        url.searchParams.set('showHistory', 'true');
        url.searchParams.set('showHistoryOutput', 'true');
      }
      const response = await call(url, `instance ${instanceId}`);
      if (response.status === 404) return undefined;
      // 202 is the answer for a run still in flight.
      if (response.status !== 200 && response.status !== 202) {
        throw await failure(response, `instance ${instanceId}`);
      }
      return (await response.json()) as DurableInstance;
    },
  };
}
