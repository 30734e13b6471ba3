/**
 * Resolves a Storage binding's `connection` the way the Functions host does
 * (WebJobs `GetWebJobsConnectionStringSection`): the name is looked up as `AzureWebJobs<name>` first,
 * then as `<name>`, each as an app setting or a `ConnectionStrings:` entry; an empty name means
 * `Storage`, i.e. `AzureWebJobsStorage`. App settings come from the environment (`local.settings.json`
 * Values are copied there by the app loader). Names are matched case-insensitively, like .NET config.
 */

/** The well-known Azurite / storage-emulator development account (public, documented key). */
export const DEV_ACCOUNT_NAME = 'devstoreaccount1';
export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
export const DEV_PORTS = { blob: 10000, queue: 10001, table: 10002 } as const;

export interface StorageConnection {
  /** The setting name that supplied the value (e.g. `AzureWebJobsStorage`). */
  settingName: string;
  /** A connection string with explicit endpoints, usable by `QueueServiceClient.fromConnectionString`. */
  connectionString: string;
  accountName: string;
  blobEndpoint?: string;
  queueEndpoint?: string;
  tableEndpoint?: string;
  /** True when the setting was `UseDevelopmentStorage=true` (Azurite on the default ports). */
  isDevelopmentStorage: boolean;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Connection string for an Azurite account on 127.0.0.1 with the given ports. */
export function azuriteConnectionString(
  ports: { blob: number; queue: number; table: number } = DEV_PORTS,
): string {
  const base = (port: number): string => `http://127.0.0.1:${port}/${DEV_ACCOUNT_NAME}`;
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_ACCOUNT_NAME}`,
    `AccountKey=${DEV_ACCOUNT_KEY}`,
    `BlobEndpoint=${base(ports.blob)}`,
    `QueueEndpoint=${base(ports.queue)}`,
    `TableEndpoint=${base(ports.table)}`,
  ].join(';');
}

function lookup(env: Env, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(env)) {
    if (key.toLowerCase() === wanted && value !== undefined && value.trim() !== '') return value;
  }
  return undefined;
}

/** Keys like `<name>__queueServiceUri` (config section children) that mark an identity-based connection. */
function sectionChildren(env: Env, name: string): string[] {
  const prefix = `${name.toLowerCase()}__`;
  return Object.keys(env).filter((key) => key.toLowerCase().startsWith(prefix) && env[key] !== undefined);
}

/**
 * Resolve a binding's `connection` option to a Storage connection.
 * @throws Error naming the setting when it is missing, identity-based, or malformed.
 */
export function resolveStorageConnection(
  connection: string | undefined,
  env: Env = process.env,
): StorageConnection {
  const name = connection === undefined || connection.trim() === '' ? 'Storage' : connection.trim();
  const candidates = [`AzureWebJobs${name}`, name];
  for (const candidate of candidates) {
    const value = lookup(env, candidate) ?? lookup(env, `ConnectionStrings__${candidate}`);
    if (value !== undefined) return parseStorageConnectionString(value, candidate);
    const children = sectionChildren(env, candidate);
    if (children.length > 0) {
      throw new Error(
        `Storage connection "${candidate}" is identity-based (${children.join(', ')}); devhost supports ` +
          `connection strings only. Set ${candidate} to a connection string (e.g. UseDevelopmentStorage=true).`,
      );
    }
  }
  throw new Error(
    `Storage connection "${name}" is not configured: set the app setting ${candidates.join(' or ')} ` +
      `to a connection string (e.g. UseDevelopmentStorage=true in local.settings.json Values).`,
  );
}

/** Parse `Key=Value;...` pairs (values may contain `=`). Keys are case-insensitive. */
function parsePairs(value: string, settingName: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const part of value.split(';')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0)
      throw new Error(`Storage connection "${settingName}" is malformed: "${trimmed}" is not Key=Value.`);
    pairs.set(trimmed.slice(0, eq).trim().toLowerCase(), trimmed.slice(eq + 1).trim());
  }
  return pairs;
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Parse a Storage connection string (explicit endpoints, account + suffix, SAS, or development storage). */
export function parseStorageConnectionString(
  value: string,
  settingName = 'AzureWebJobsStorage',
): StorageConnection {
  const pairs = parsePairs(value, settingName);
  if (pairs.get('usedevelopmentstorage')?.toLowerCase() === 'true') {
    if (pairs.has('developmentstorageproxyuri')) {
      throw new Error(
        `Storage connection "${settingName}": DevelopmentStorageProxyUri is not supported by devhost.`,
      );
    }
    return {
      settingName,
      connectionString: azuriteConnectionString(),
      accountName: DEV_ACCOUNT_NAME,
      blobEndpoint: `http://127.0.0.1:${DEV_PORTS.blob}/${DEV_ACCOUNT_NAME}`,
      queueEndpoint: `http://127.0.0.1:${DEV_PORTS.queue}/${DEV_ACCOUNT_NAME}`,
      tableEndpoint: `http://127.0.0.1:${DEV_PORTS.table}/${DEV_ACCOUNT_NAME}`,
      isDevelopmentStorage: true,
    };
  }
  const accountName = pairs.get('accountname');
  const hasKey = pairs.has('accountkey');
  const hasSas = pairs.has('sharedaccesssignature');
  if (!hasKey && !hasSas) {
    throw new Error(
      `Storage connection "${settingName}" has neither AccountKey nor SharedAccessSignature ` +
        `(expected e.g. DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...).`,
    );
  }
  const protocol = pairs.get('defaultendpointsprotocol') ?? 'https';
  if (protocol !== 'http' && protocol !== 'https') {
    throw new Error(
      `Storage connection "${settingName}": DefaultEndpointsProtocol must be http or https, not "${protocol}".`,
    );
  }
  const suffix = pairs.get('endpointsuffix') ?? 'core.windows.net';
  const endpoint = (service: 'blob' | 'queue' | 'table'): string | undefined => {
    const explicit = pairs.get(`${service}endpoint`);
    if (explicit !== undefined) {
      try {
        return stripSlash(new URL(explicit).toString());
      } catch {
        throw new Error(
          `Storage connection "${settingName}": ${service}Endpoint "${explicit}" is not a URL.`,
        );
      }
    }
    return accountName === undefined ? undefined : `${protocol}://${accountName}.${service}.${suffix}`;
  };
  const blobEndpoint = endpoint('blob');
  const queueEndpoint = endpoint('queue');
  const tableEndpoint = endpoint('table');
  const resolvedAccount = accountName ?? accountFromEndpoint(queueEndpoint ?? blobEndpoint);
  if (accountName === undefined && queueEndpoint === undefined && blobEndpoint === undefined) {
    throw new Error(`Storage connection "${settingName}" names no AccountName and no service endpoints.`);
  }
  const parts = [`DefaultEndpointsProtocol=${protocol}`];
  if (accountName !== undefined) parts.push(`AccountName=${accountName}`);
  if (hasKey) parts.push(`AccountKey=${pairs.get('accountkey') ?? ''}`);
  if (blobEndpoint !== undefined) parts.push(`BlobEndpoint=${blobEndpoint}`);
  if (queueEndpoint !== undefined) parts.push(`QueueEndpoint=${queueEndpoint}`);
  if (tableEndpoint !== undefined) parts.push(`TableEndpoint=${tableEndpoint}`);
  if (hasSas) parts.push(`SharedAccessSignature=${pairs.get('sharedaccesssignature') ?? ''}`);
  return {
    settingName,
    connectionString: parts.join(';'),
    accountName: resolvedAccount,
    blobEndpoint,
    queueEndpoint,
    tableEndpoint,
    isDevelopmentStorage: false,
  };
}

/** Account name from an endpoint: path-style (`http://127.0.0.1:10001/acct`) or host-style (`https://acct.queue...`). */
function accountFromEndpoint(endpoint: string | undefined): string {
  if (endpoint === undefined) return 'unknown';
  const url = new URL(endpoint);
  const firstSegment = url.pathname.split('/').find((segment) => segment !== '');
  return firstSegment ?? url.hostname.split('.')[0] ?? 'unknown';
}

/** True when `AzureWebJobsStorage` (or the given setting) asks for development storage. */
export function usesDevelopmentStorage(env: Env = process.env, settingName = 'AzureWebJobsStorage'): boolean {
  const value = lookup(env, settingName);
  return value !== undefined && /(^|;)\s*UseDevelopmentStorage\s*=\s*true\s*(;|$)/i.test(value);
}
