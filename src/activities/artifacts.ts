/** Run artifacts and large payloads in Blob storage (claim check): `<container>/<runId>/<name>`. */
import { RestError, type BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { CredentialFactory } from '../azure/credentials.js';
import { blobServiceFor } from '../azure/storageClients.js';
import type { StorageConnection } from '../config/app.js';
import { SaveArtifactInput, type SavedArtifact } from '../shared/artifactTypes.js';

/** Largest artifact `loadArtifact` reads into memory unless the caller asks for less. */
export const DEFAULT_MAX_LOAD_BYTES = 32 * 1024 * 1024;

export interface BlobServiceDeps {
  /** A ready client (tests), or a function building one on first use. */
  readonly blobServiceClient?: BlobServiceClient | (() => BlobServiceClient);
  /** Used when no client is given: the app's storage connection (`AzureWebJobsStorage`). */
  readonly connection?: () => StorageConnection | undefined;
  /** Builds the credential of an identity-based connection (default: src/azure/storageClients.ts's shared one). */
  readonly credentials?: CredentialFactory;
}

export interface ArtifactStoreDeps extends BlobServiceDeps {
  readonly containerName: string | (() => string);
}

/** The blob service client the deps describe, built once on first use. */
export function lazyBlobService(deps: BlobServiceDeps): () => BlobServiceClient {
  let service: BlobServiceClient | undefined;
  return () => {
    if (service) return service;
    const given = deps.blobServiceClient;
    service =
      given === undefined
        ? clientFromConnection(deps.connection?.(), deps.credentials)
        : typeof given === 'function'
          ? given()
          : given;
    return service;
  };
}

export interface LoadOptions {
  readonly maxBytes?: number;
}

export interface ArtifactActivities {
  /** The `saveArtifact` activity: writes (or overwrites, so retries are harmless) one blob. */
  readonly saveArtifact: (input: unknown) => Promise<SavedArtifact>;
  /** Reads a blob this app saved; refs outside the artifacts container are refused. */
  readonly loadArtifact: (blobRef: string, options?: LoadOptions) => Promise<Buffer>;
  readonly loadText: (blobRef: string, options?: LoadOptions) => Promise<string>;
  /** Parsed JSON; the caller validates the shape. */
  readonly loadJson: (blobRef: string, options?: LoadOptions) => Promise<unknown>;
}

export class ArtifactError extends Error {
  constructor(
    message: string,
    readonly code: 'not_found' | 'too_large' | 'invalid_ref' | 'not_configured',
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function clientFromConnection(
  connection: StorageConnection | undefined,
  credentials?: CredentialFactory,
): BlobServiceClient {
  if (!connection) {
    throw new ArtifactError(
      'Blob storage is not configured: set AzureWebJobsStorage (locally UseDevelopmentStorage=true, with Azurite) ' +
        'or AzureWebJobsStorage__accountName (or __blobServiceUri and __queueServiceUri) for an identity-based connection',
      'not_configured',
    );
  }
  return blobServiceFor(connection, credentials);
}

function describeIssues(error: { issues: readonly { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .map(
      (issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`,
    )
    .join('; ');
}

/**
 * The deps' container, created once per process on first use (a failure is retried on the next call),
 * and its name.
 */
export function lazyContainer(deps: ArtifactStoreDeps): {
  containerName: () => string;
  container: () => Promise<ContainerClient>;
} {
  const containerName = () =>
    typeof deps.containerName === 'function' ? deps.containerName() : deps.containerName;
  const serviceClient = lazyBlobService(deps);
  let ready: Promise<ContainerClient> | undefined;
  const container = (): Promise<ContainerClient> => {
    ready ??= (async () => {
      const client = serviceClient().getContainerClient(containerName());
      await client.createIfNotExists();
      return client;
    })();
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };
  return { containerName, container };
}

export function createArtifactActivities(deps: ArtifactStoreDeps): ArtifactActivities {
  const { containerName, container } = lazyContainer(deps);

  const blobNameOf = (blobRef: string): string => {
    const prefix = `${containerName()}/`;
    const name = blobRef.startsWith(prefix) ? blobRef.slice(prefix.length) : undefined;
    if (!name || name.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
      throw new ArtifactError(
        `"${blobRef}" is not an artifact reference (expected ${prefix}<runId>/<name>)`,
        'invalid_ref',
      );
    }
    return name;
  };

  async function loadArtifact(blobRef: string, options: LoadOptions = {}): Promise<Buffer> {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_LOAD_BYTES;
    const blob = (await container()).getBlockBlobClient(blobNameOf(blobRef));
    try {
      const { contentLength = 0 } = await blob.getProperties();
      if (contentLength > maxBytes) {
        throw new ArtifactError(
          `Artifact ${blobRef} is ${contentLength} bytes, more than the ${maxBytes} allowed here`,
          'too_large',
        );
      }
      return await blob.downloadToBuffer();
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) {
        throw new ArtifactError(`No artifact ${blobRef}`, 'not_found', { cause: error });
      }
      throw error;
    }
  }

  return {
    async saveArtifact(raw) {
      const parsed = SaveArtifactInput.safeParse(raw);
      if (!parsed.success) throw new Error(`Invalid saveArtifact input: ${describeIssues(parsed.error)}`);
      const { runId, name, contentType, content, contentBase64 } = parsed.data;
      const body =
        content !== undefined ? Buffer.from(content, 'utf8') : Buffer.from(contentBase64 ?? '', 'base64');
      const blobName = `${runId}/${name}`;
      await (
        await container()
      )
        .getBlockBlobClient(blobName)
        .uploadData(body, { blobHTTPHeaders: { blobContentType: contentType } });
      return { blobRef: `${containerName()}/${blobName}`, bytes: body.length };
    },
    loadArtifact,
    async loadText(blobRef, options) {
      return (await loadArtifact(blobRef, options)).toString('utf8');
    },
    async loadJson(blobRef, options) {
      const text = (await loadArtifact(blobRef, options)).toString('utf8');
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new Error(`Artifact ${blobRef} is not JSON: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}
