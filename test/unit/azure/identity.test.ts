import {
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type AccessToken,
  type TokenCredential,
} from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { clientFromConnection, lazyBlobService } from '../../../src/activities/artifacts.js';
import {
  appCredentialSpec,
  cachedCredentials,
  connectionCredentialSpec,
  createCredential,
  describeCredential,
  type CredentialSpec,
} from '../../../src/azure/credentials.js';
import { blobServiceFor, queueServiceFor } from '../../../src/azure/storageClients.js';
import type { ConfigError } from '../../../src/config/section.js';
import { parseConfig, type StorageConnection } from '../../../src/config/app.js';
import { createPoisonQueue } from '../../../src/functions/queue/poisonQueue.js';

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const OTHER_ID = '99999999-8888-7777-6666-555555555555';
const RESOURCE_ID =
  '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id';

function specOf(env: Record<string, string>): { spec: CredentialSpec; problems: string[] } {
  const problems: string[] = [];
  return { spec: connectionCredentialSpec(env, 'AzureWebJobsStorage', problems), problems };
}

/** A credential that records the scopes asked for and refuses, so nothing reaches the network. */
class RecordingCredential implements TokenCredential {
  readonly scopes: string[] = [];
  constructor(readonly spec: CredentialSpec) {}
  getToken(scopes: string | string[]): Promise<AccessToken | null> {
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    return Promise.reject(new Error(`recorded: no token for ${describeCredential(this.spec)}`));
  }
}

function recordingFactory() {
  const built: RecordingCredential[] = [];
  return {
    built,
    factory: (spec: CredentialSpec) => {
      const credential = new RecordingCredential(spec);
      built.push(credential);
      return credential;
    },
  };
}

function identityStorage(env: Record<string, string>): StorageConnection {
  const storage = parseConfig(env).storage;
  if (storage?.kind !== 'identity') throw new Error(`expected an identity connection, got ${storage?.kind}`);
  return storage;
}

describe('connectionCredentialSpec (the Functions host rules for <prefix>__credential / __clientId)', () => {
  it('managedidentity with __clientId is that user-assigned identity', () => {
    expect(
      specOf({
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: CLIENT_ID,
      }),
    ).toEqual({ spec: { kind: 'managed-identity', clientId: CLIENT_ID }, problems: [] });
  });

  it('managedidentity alone is the system-assigned identity, whatever AZURE_CLIENT_ID says', () => {
    expect(specOf({ AzureWebJobsStorage__credential: 'ManagedIdentity', AZURE_CLIENT_ID: OTHER_ID })).toEqual(
      { spec: { kind: 'managed-identity' }, problems: [] },
    );
  });

  it('managedidentity with __managedIdentityResourceId names the identity by resource id', () => {
    expect(
      specOf({
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__managedIdentityResourceId: RESOURCE_ID,
      }).spec,
    ).toEqual({ kind: 'managed-identity', resourceId: RESOURCE_ID });
  });

  it('refuses both ids, another credential type, and a client id the host would ignore', () => {
    expect(
      specOf({
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: CLIENT_ID,
        AzureWebJobsStorage__managedIdentityResourceId: RESOURCE_ID,
      }).problems,
    ).toEqual([
      'AzureWebJobsStorage__clientId and AzureWebJobsStorage__managedIdentityResourceId are both set; keep one to name the user-assigned identity',
    ]);
    expect(specOf({ AzureWebJobsStorage__credential: 'workloadidentity' }).problems[0]).toContain(
      'AzureWebJobsStorage__credential must be "managedidentity"',
    );
    expect(specOf({ AzureWebJobsStorage__clientId: CLIENT_ID }).problems[0]).toMatch(
      /^AzureWebJobsStorage__clientId is set without AzureWebJobsStorage__credential=managedidentity/,
    );
  });

  it('tenantId + clientId + clientSecret is a service principal, its secret never printed', () => {
    const { spec, problems } = specOf({
      AzureWebJobsStorage__tenantId: 'tenant',
      AzureWebJobsStorage__clientId: CLIENT_ID,
      AzureWebJobsStorage__clientSecret: 'sp-secret-value',
    });
    expect(problems).toEqual([]);
    expect(spec).toMatchObject({ kind: 'client-secret', tenantId: 'tenant', clientId: CLIENT_ID });
    expect(JSON.stringify(spec)).not.toContain('sp-secret-value');
    expect(describeCredential(spec)).not.toContain('sp-secret-value');
  });

  it('without __credential it is DefaultAzureCredential on AZURE_CLIENT_ID', () => {
    expect(specOf({ AZURE_CLIENT_ID: OTHER_ID }).spec).toEqual({
      kind: 'default',
      managedIdentityClientId: OTHER_ID,
    });
    expect(appCredentialSpec({})).toEqual({ kind: 'default' });
  });
});

describe('createCredential', () => {
  it('builds the credential class each spec names, with its client id', () => {
    const user = createCredential({ kind: 'managed-identity', clientId: CLIENT_ID });
    expect(user).toBeInstanceOf(ManagedIdentityCredential);
    // The SDK keeps the id in a private field (node_modules/@azure/identity/dist/esm/credentials/managedIdentityCredential/index.js).
    expect((user as unknown as { clientId?: string }).clientId).toBe(CLIENT_ID);
    const system = createCredential({ kind: 'managed-identity' });
    expect(system).toBeInstanceOf(ManagedIdentityCredential);
    expect((system as unknown as { clientId?: string }).clientId).toBeUndefined();
    const byResource = createCredential({ kind: 'managed-identity', resourceId: RESOURCE_ID });
    expect((byResource as unknown as { resourceId?: string }).resourceId).toBe(RESOURCE_ID);
    expect(createCredential({ kind: 'default', managedIdentityClientId: OTHER_ID })).toBeInstanceOf(
      DefaultAzureCredential,
    );
    const spec = specOf({
      AzureWebJobsStorage__tenantId: 'tenant',
      AzureWebJobsStorage__clientId: CLIENT_ID,
      AzureWebJobsStorage__clientSecret: 'sp-secret-value',
    }).spec;
    expect(createCredential(spec)).toBeInstanceOf(ClientSecretCredential);
  });

  it('shares one credential per identity', () => {
    const { built, factory } = recordingFactory();
    const cached = cachedCredentials(factory);
    const a = cached({ kind: 'managed-identity', clientId: CLIENT_ID });
    expect(cached({ kind: 'managed-identity', clientId: CLIENT_ID })).toBe(a);
    expect(cached({ kind: 'managed-identity', clientId: OTHER_ID })).not.toBe(a);
    expect(built).toHaveLength(2);
  });
});

describe('AzureWebJobsStorage identity-based connection', () => {
  it('__accountName gives the public-cloud blob and queue endpoints', () => {
    expect(
      identityStorage({
        AzureWebJobsStorage__accountName: 'mystorage',
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: CLIENT_ID,
      }),
    ).toEqual({
      kind: 'identity',
      blobServiceUri: 'https://mystorage.blob.core.windows.net',
      queueServiceUri: 'https://mystorage.queue.core.windows.net',
      credential: { kind: 'managed-identity', clientId: CLIENT_ID },
    });
  });

  it('service URIs are taken as given (sovereign clouds, private DNS), never derived from each other', () => {
    expect(
      identityStorage({
        AzureWebJobsStorage__blobServiceUri: 'https://blobs.example.internal/',
        AzureWebJobsStorage__queueServiceUri: 'https://queues.example.internal',
      }),
    ).toMatchObject({
      blobServiceUri: 'https://blobs.example.internal',
      queueServiceUri: 'https://queues.example.internal',
      credential: { kind: 'default' },
    });
  });

  it('names what is missing or conflicting', () => {
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig(env);
        return [];
      } catch (error) {
        return [...(error as ConfigError).problems];
      }
    };
    expect(problems({ AzureWebJobsStorage__blobServiceUri: 'https://a.blob.core.windows.net' })).toEqual([
      expect.stringMatching(
        /^AzureWebJobsStorage__queueServiceUri is not set; with service URIs the app and the host's queue trigger need both/,
      ),
    ]);
    expect(
      problems({
        AzureWebJobsStorage__accountName: 'acct',
        AzureWebJobsStorage__blobServiceUri: 'https://a.blob.core.windows.net',
        AzureWebJobsStorage__queueServiceUri: 'https://a.queue.core.windows.net',
      }),
    ).toEqual([
      expect.stringContaining('AzureWebJobsStorage__accountName and AzureWebJobsStorage__blobServiceUri'),
    ]);
    expect(problems({ AzureWebJobsStorage__accountName: 'Bad_Name' })).toEqual([
      'AzureWebJobsStorage__accountName must be a storage account name (got "Bad_Name")',
    ]);
  });
});

describe('the clients the app builds get the connection identity and endpoints', () => {
  const storage = () =>
    identityStorage({
      AzureWebJobsStorage__accountName: 'mystorage',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: CLIENT_ID,
    });

  it('blob (artifacts, batch I/O, audit) and queue services', () => {
    const { built, factory } = recordingFactory();
    const blob = blobServiceFor(storage(), factory);
    expect(blob.url).toBe('https://mystorage.blob.core.windows.net/');
    expect(blob.credential).toBe(built[0]);
    const queue = queueServiceFor(storage(), factory);
    expect(queue.url).toBe('https://mystorage.queue.core.windows.net');
    // QueueServiceClient keeps its credential protected (StorageClient in @azure/storage-queue).
    expect((queue as unknown as { credential: unknown }).credential).toBe(built[1]);
    expect(built.map((c) => c.spec)).toEqual([
      { kind: 'managed-identity', clientId: CLIENT_ID },
      { kind: 'managed-identity', clientId: CLIENT_ID },
    ]);
    // artifacts and batch I/O build theirs with lazyBlobService, the audit store with clientFromConnection.
    const lazy = lazyBlobService({ connection: storage, credentials: factory })();
    expect([lazy.url, (lazy.credential as RecordingCredential).spec]).toEqual([
      'https://mystorage.blob.core.windows.net/',
      { kind: 'managed-identity', clientId: CLIENT_ID },
    ]);
    const audit = clientFromConnection(storage(), factory);
    expect((audit.credential as RecordingCredential).spec).toEqual({
      kind: 'managed-identity',
      clientId: CLIENT_ID,
    });
  });

  it('the poison queue asks the connection identity for a storage token', async () => {
    const { built, factory } = recordingFactory();
    const poison = createPoisonQueue({
      queueName: 'workflow-requests',
      connection: storage,
      credentials: factory,
    });
    await expect(
      poison.send({
        originalBody: 'x',
        reason: 'r',
        queue: 'workflow-requests',
        movedAt: new Date(0).toISOString(),
      }),
    ).rejects.toThrow(/recorded: no token for user-assigned managed identity 11111111/);
    expect(built.map((c) => [c.spec, c.scopes])).toEqual([
      [{ kind: 'managed-identity', clientId: CLIENT_ID }, ['https://storage.azure.com/.default']],
    ]);
  });

  it('a connection string needs no credential', () => {
    const { built, factory } = recordingFactory();
    const connection = parseConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }).storage;
    expect(blobServiceFor(connection, factory).url).toBe('http://127.0.0.1:10000/devstoreaccount1');
    expect(queueServiceFor(connection, factory).url).toBe('http://127.0.0.1:10001/devstoreaccount1');
    expect(built).toEqual([]);
    expect(() => blobServiceFor(undefined, factory)).toThrow(
      /Blob storage is not configured: set AzureWebJobsStorage/,
    );
  });
});
