import { z } from 'zod';
import { connectionCredentialSpec, type CredentialSpec } from '../azure/credentials.js';
import { Secret } from '../models/secret.js';
import { ConfigError, blank, intSetting, readSection, type Env } from './section.js';
import { parseAllowHosts, type AllowHosts } from '../net/urlPolicy.js';

/** Blob container names: 3-63 lower-case letters, digits and single hyphens, starting and ending alphanumeric. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;

const EnvSchema = z.object({
  WORKFLOW_MAX_WAIT_SECONDS: intSetting('WORKFLOW_MAX_WAIT_SECONDS', 0, 230, 60),
  WORKFLOWS_DIR: z.string().optional(),
  TOOLS_DIR: z.string().optional(),
  AGENT_MAX_TURNS: intSetting('AGENT_MAX_TURNS', 1, 1000, 50),
  ARTIFACTS_CONTAINER: z
    .string()
    .regex(CONTAINER_NAME, {
      error:
        'ARTIFACTS_CONTAINER must be a blob container name: 3-63 lower-case letters, digits and single hyphens',
    })
    .default('agent-artifacts'),
  WORKFLOW_REQUESTS_QUEUE: z
    .string()
    .regex(/^(?=.{3,56}$)[a-z0-9]+(?:-[a-z0-9]+)*$/, {
      error:
        'WORKFLOW_REQUESTS_QUEUE must be a queue name of 3-56 lower-case letters, digits and single hyphens (room for "-poison")',
    })
    .default('workflow-requests'),
  RETURN_DURABLE_MANAGEMENT_URLS: z
    .enum(['true', 'false'], { error: 'RETURN_DURABLE_MANAGEMENT_URLS must be "true" or "false"' })
    .default('false'),
});

/** Shortest accepted callback signing secret: HMAC-SHA256 keys should carry at least 128 bits. */
export const MIN_CALLBACK_SECRET_LENGTH = 32;

/** Where artifacts live: a connection string (Azurite, keys), or identity-based blob and queue endpoints. */
export type StorageConnection =
  | { readonly kind: 'connection-string'; readonly connectionString: Secret }
  | {
      readonly kind: 'identity';
      readonly blobServiceUri: string;
      readonly queueServiceUri: string;
      /** From `AzureWebJobsStorage__credential` / `__clientId` / `AZURE_CLIENT_ID` (src/azure/credentials.ts). */
      readonly credential: CredentialSpec;
    };

export interface Config {
  /** Upper bound for `?wait=` on the HTTP starter; Azure's front end drops requests after 230 s. */
  readonly maxWaitSeconds: number;
  /** `WORKFLOWS_DIR`: overrides the app's own `workflows/` folder. */
  readonly workflowsDir: string | undefined;
  /** `TOOLS_DIR`: overrides the HTTP tool files folder (default: `tools/` beside the workflows folder). */
  readonly toolsDir: string | undefined;
  /**
   * `URL_POLICY_ALLOW_HOSTS`: host names, addresses and CIDR ranges that operator-configured endpoints (HTTP
   * tools, MCP servers) may reach despite the SSRF guard; model- and caller-chosen URLs never (src/net).
   */
  readonly urlPolicyAllowHosts: AllowHosts;
  /** `AGENT_MAX_TURNS`: the highest `maxTurns` an agent step may declare. */
  readonly agentMaxTurns: number;
  /** Blob container for run artifacts and large transcripts. */
  readonly artifactsContainer: string;
  /** From `AzureWebJobsStorage` (or its identity-based `__blobServiceUri` / `__accountName` form). */
  readonly storage: StorageConnection | undefined;
  /** `CALLBACK_SIGNING_SECRET`: HMAC key for completion callbacks; without it callbacks are refused. */
  readonly callbackSigningSecret: Secret | undefined;
  /** `WORKFLOW_REQUESTS_QUEUE`: the queue whose messages start runs and batches (poison: `<name>-poison`). */
  readonly workflowRequestsQueue: string;
  /**
   * `RETURN_DURABLE_MANAGEMENT_URLS=true`: the 202 of `POST /api/workflows/{name}` also carries the Durable
   * management URLs (`statusQueryGetUri`, `sendEventPostUri`, …), which hold the system key. Default off.
   */
  readonly returnDurableManagementUrls: boolean;
  /** `QUEUE_BLOB_CONTAINERS`: the only containers queue messages may name for batch items and results. */
  readonly queueBlobContainers: readonly string[];
  /** `FILE_BLOB_CONTAINERS`: the only containers `{ blob }` / `{ artifact }` file references may name. */
  readonly fileBlobContainers: readonly string[];
}

/** The example container of batch items (`BlobRef` in src/shared/requestTypes.ts), allowed by default. */
export const DEFAULT_BATCH_CONTAINER = 'batches';

const STORAGE = 'AzureWebJobsStorage';

/** An `AzureWebJobsStorage__<name>ServiceUri` setting's value: an http(s) URL, or a problem naming it. */
function serviceUri(name: string, raw: string | undefined, problems: string[]): string | undefined {
  const value = blank(raw);
  if (value === undefined) return undefined;
  if (!z.url({ protocol: /^https?$/ }).safeParse(value).success) {
    problems.push(`${name} must be an http(s) URL (got ${JSON.stringify(value)})`);
    return undefined;
  }
  return value.replace(/\/+$/, '');
}

/**
 * The storage account the Functions host itself uses; identity-based connections as the host documents them
 * (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity):
 * `__accountName` names both endpoints in the public cloud, or `__blobServiceUri` and `__queueServiceUri`
 * give them (the host's queue trigger needs the queue one too). The credential: src/azure/credentials.ts.
 */
function readStorage(env: Env, problems: string[]): StorageConnection | undefined {
  const connectionString = blank(env[STORAGE]);
  if (connectionString) return { kind: 'connection-string', connectionString: new Secret(connectionString) };
  // Read by their full names, so the settings cross-check (test/infra/appSettings.test.ts) finds them.
  const blobSetting = blank(env.AzureWebJobsStorage__blobServiceUri);
  const queueSetting = blank(env.AzureWebJobsStorage__queueServiceUri);
  const blobUri = serviceUri(`${STORAGE}__blobServiceUri`, blobSetting, problems);
  const queueUri = serviceUri(`${STORAGE}__queueServiceUri`, queueSetting, problems);
  const accountName = blank(env.AzureWebJobsStorage__accountName);
  const anyUri = blobSetting ?? queueSetting;
  if (!anyUri && !accountName) return undefined;
  const credential = connectionCredentialSpec(env, STORAGE, problems);
  if (anyUri) {
    if (accountName) {
      problems.push(
        `${STORAGE}__accountName and ${STORAGE}__blobServiceUri/__queueServiceUri are both set; keep one form`,
      );
    }
    for (const [name, value] of [
      ['blobServiceUri', blobSetting],
      ['queueServiceUri', queueSetting],
    ] as const) {
      if (value === undefined) {
        problems.push(
          `${STORAGE}__${name} is not set; with service URIs the app and the host's queue trigger need both ` +
            `${STORAGE}__blobServiceUri and ${STORAGE}__queueServiceUri (or set ${STORAGE}__accountName instead)`,
        );
      }
    }
    if (!blobUri || !queueUri) return undefined;
    return { kind: 'identity', blobServiceUri: blobUri, queueServiceUri: queueUri, credential };
  }
  if (!accountName || !/^[a-z0-9]{3,24}$/.test(accountName)) {
    problems.push(
      `${STORAGE}__accountName must be a storage account name (got ${JSON.stringify(accountName)})`,
    );
    return undefined;
  }
  return {
    kind: 'identity',
    blobServiceUri: `https://${accountName}.blob.core.windows.net`,
    queueServiceUri: `https://${accountName}.queue.core.windows.net`,
    credential,
  };
}

/** `QUEUE_BLOB_CONTAINERS`: comma-separated container names; default the artifacts container and `batches`. */
function readQueueBlobContainers(env: Env, artifactsContainer: string, problems: string[]): string[] {
  return readContainerList(
    env,
    'QUEUE_BLOB_CONTAINERS',
    [artifactsContainer, DEFAULT_BATCH_CONTAINER],
    problems,
  );
}

/** A comma-separated list of container names from `setting`, or `fallback` when unset. */
function readContainerList(env: Env, setting: string, fallback: string[], problems: string[]): string[] {
  const raw = blank(env[setting]);
  if (raw === undefined) return fallback;
  const names = [...new Set(raw.split(',').map((name) => name.trim()))];
  const bad = names.filter((name) => !CONTAINER_NAME.test(name));
  if (bad.length > 0) {
    problems.push(
      `${setting} must be comma-separated blob container names (3-63 lower-case letters, digits and single hyphens); not valid: ${bad.map((name) => JSON.stringify(name)).join(', ')}`,
    );
  }
  return names.filter((name) => CONTAINER_NAME.test(name));
}

/** Parses app settings; empty strings count as unset so a blank setting falls back to its default. */
export function parseConfig(env: Env): Config {
  const parsed = readSection(EnvSchema, env);
  const problems = [...parsed.problems];
  const storage = readStorage(env, problems);
  const artifactsContainer = parsed.data?.ARTIFACTS_CONTAINER ?? 'agent-artifacts';
  const queueBlobContainers = readQueueBlobContainers(env, artifactsContainer, problems);
  // Read by its full name here, so the settings cross-check (test/infra/appSettings.test.ts) finds it.
  const fileBlobContainers = readContainerList(
    { FILE_BLOB_CONTAINERS: env.FILE_BLOB_CONTAINERS },
    'FILE_BLOB_CONTAINERS',
    [artifactsContainer],
    problems,
  );
  const callbackSecret = blank(env.CALLBACK_SIGNING_SECRET);
  if (callbackSecret !== undefined && callbackSecret.length < MIN_CALLBACK_SECRET_LENGTH) {
    problems.push(
      `CALLBACK_SIGNING_SECRET must be at least ${MIN_CALLBACK_SECRET_LENGTH} characters (got ${callbackSecret.length}; the value is not shown)`,
    );
  }
  const allowHosts = parseAllowHosts(env.URL_POLICY_ALLOW_HOSTS);
  problems.push(...allowHosts.problems);
  if (parsed.data === undefined || problems.length > 0) throw new ConfigError(problems);
  return {
    maxWaitSeconds: parsed.data.WORKFLOW_MAX_WAIT_SECONDS,
    workflowsDir: parsed.data.WORKFLOWS_DIR,
    toolsDir: parsed.data.TOOLS_DIR,
    urlPolicyAllowHosts: allowHosts.allowHosts,
    agentMaxTurns: parsed.data.AGENT_MAX_TURNS,
    artifactsContainer: parsed.data.ARTIFACTS_CONTAINER,
    storage,
    callbackSigningSecret: callbackSecret === undefined ? undefined : new Secret(callbackSecret),
    workflowRequestsQueue: parsed.data.WORKFLOW_REQUESTS_QUEUE,
    queueBlobContainers,
    fileBlobContainers,
    returnDurableManagementUrls: parsed.data.RETURN_DURABLE_MANAGEMENT_URLS === 'true',
  };
}
