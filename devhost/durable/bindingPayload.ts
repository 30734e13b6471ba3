/**
 * The `durableClient` input binding value, shaped like the extension's
 * BindingHelper.DurableOrchestrationClientToString. As in Azure, two origins: `rpcBaseUrl` is the local
 * RPC endpoint the app's DurableClient calls (the extension's LocalHttpListener on 127.0.0.1), and every
 * webhook link (`statusQueryGetUri`, `baseUrl`, the creation URLs) is on the public origin the extension
 * reports, `https://<WEBSITE_HOSTNAME>`, which the app itself must never call (a round trip through its
 * own front end). devhost advertises an origin the app cannot reach (see `advertisedWebhookOrigin`).
 */

export const INSTANCE_ID_PLACEHOLDER = 'INSTANCEID';
export const WEBHOOK_PATH = '/runtime/webhooks/durabletask';
export const RPC_PATH = '/durabletask/';
/** The connection name the Azure Storage provider reports; the JS client only echoes it. */
export const DEFAULT_CONNECTION_NAME = 'Storage';

export interface HttpManagementPayload {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  rewindPostUri: string;
  purgeHistoryDeleteUri: string;
  restartPostUri: string;
  suspendPostUri: string;
  resumePostUri: string;
}

export interface DurableClientBindingPayload {
  taskHubName: string;
  connectionName?: string;
  creationUrls: { createNewInstancePostUri: string; createAndWaitOnNewInstancePostUri: string };
  managementUrls: HttpManagementPayload;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
  httpBaseUrl: string;
}

export interface PayloadOptions {
  /** The webhook links' origin, e.g. `https://devhost-7071.invalid`, no trailing slash. */
  origin: string;
  /** The RPC endpoint's origin, e.g. `http://127.0.0.1:7071` (default: `origin`). */
  rpcOrigin?: string;
  taskHubName: string;
  systemKey: string;
  connectionName?: string;
}

function querySuffix(opts: PayloadOptions): string {
  const hub = encodeURIComponent(opts.taskHubName);
  const connection = encodeURIComponent(opts.connectionName ?? DEFAULT_CONNECTION_NAME);
  return `taskHub=${hub}&connection=${connection}&code=${encodeURIComponent(opts.systemKey)}`;
}

/** HttpApiHandler.GetClientResponseLinks: the management URLs for one instance. */
export function managementUrls(opts: PayloadOptions, instanceId: string): HttpManagementPayload {
  const q = querySuffix(opts);
  // The placeholder itself must survive unencoded so the client can substitute it.
  const id = instanceId === INSTANCE_ID_PLACEHOLDER ? instanceId : encodeURIComponent(instanceId);
  const prefix = `${opts.origin}${WEBHOOK_PATH}/instances/${id}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${prefix}?${q}`,
    sendEventPostUri: `${prefix}/raiseEvent/{eventName}?${q}`,
    terminatePostUri: `${prefix}/terminate?reason={text}&${q}`,
    rewindPostUri: `${prefix}/rewind?reason={text}&${q}`,
    purgeHistoryDeleteUri: `${prefix}?${q}`,
    restartPostUri: `${prefix}/restart?${q}`,
    suspendPostUri: `${prefix}/suspend?reason={text}&${q}`,
    resumePostUri: `${prefix}/resume?reason={text}&${q}`,
  };
}

export function buildDurableClientPayload(opts: PayloadOptions): DurableClientBindingPayload {
  const baseUrl = `${opts.origin}${WEBHOOK_PATH}`;
  const code = `code=${encodeURIComponent(opts.systemKey)}`;
  const creationPrefix = `${baseUrl}/orchestrators/{functionName}[/{instanceId}]`;
  return {
    taskHubName: opts.taskHubName,
    ...(opts.connectionName ? { connectionName: opts.connectionName } : {}),
    creationUrls: {
      createNewInstancePostUri: `${creationPrefix}?${code}`,
      createAndWaitOnNewInstancePostUri: `${creationPrefix}?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${code}`,
    },
    managementUrls: managementUrls(opts, INSTANCE_ID_PLACEHOLDER),
    baseUrl,
    requiredQueryStringParameters: code,
    rpcBaseUrl: `${opts.rpcOrigin ?? opts.origin}${RPC_PATH}`,
    // durable-functions 3.5.0 never reads httpBaseUrl; kept for clients that do.
    httpBaseUrl: baseUrl,
  };
}

/**
 * The origin devhost puts into the binding's webhook links by default: a name under `.invalid`, which
 * never resolves (RFC 6761 §6.4, https://www.rfc-editor.org/rfc/rfc6761#section-6.4), so a call the app
 * makes to its own public origin fails at once (ENOTFOUND) instead of working only because devhost is on
 * loopback. In Azure that origin is the app's front end, where authentication, access restrictions and
 * private endpoints stop such calls. The port keeps the names of two hosts in one process apart.
 * Callers outside the app never see it: links answered to a request use the origin it addressed
 * (createCheckStatusResponse, the webhook API), and `listenerUrl` maps one back.
 */
export function advertisedWebhookOrigin(port: number): string {
  return `https://devhost-${port}.invalid`;
}

/** A link on the advertised origin, moved to the listener that serves it (for tests and tools outside the app). */
export function listenerUrl(link: string, listenerOrigin: string): string {
  // Only the origin changes: a template's `{functionName}[/{instanceId}]` must stay as it is.
  const { origin } = new URL(link);
  return link.startsWith(origin) ? listenerOrigin + link.slice(origin.length) : link;
}

/**
 * durable-functions' getClient() rewrites every creation/management URL origin to
 * http://localhost:7071 unless WEBSITE_HOSTNAME is set (and is not 0.0.0.0). On Azure the platform
 * sets it to the app's public host name (no scheme, no port); devhost sets it to the host of the origin
 * it advertises before any function runs.
 */
export function setWebsiteHostname(webhookOrigin: string): string {
  const value = new URL(webhookOrigin).host;
  process.env.WEBSITE_HOSTNAME = value;
  return value;
}
