/**
 * The `durableClient` input binding value, shaped like the extension's
 * BindingHelper.DurableOrchestrationClientToString, with every URL on the devhost's own origin.
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
  /** e.g. `http://127.0.0.1:7071`, no trailing slash. */
  origin: string;
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
    rpcBaseUrl: `${opts.origin}${RPC_PATH}`,
    // durable-functions 3.5.0 never reads httpBaseUrl; kept for clients that do.
    httpBaseUrl: baseUrl,
  };
}

/**
 * durable-functions' getClient() rewrites every creation/management URL origin to
 * http://localhost:7071 unless WEBSITE_HOSTNAME is set (and is not 0.0.0.0), which would point
 * createCheckStatusResponse links and the non-rpc code paths at the wrong port. On Azure the
 * platform sets it; the devhost sets it to its own address before any function runs.
 */
export function setWebsiteHostname(port: number, host = '127.0.0.1'): string {
  const value = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  process.env.WEBSITE_HOSTNAME = value;
  return value;
}
