/** The blob side of file intake and of callModel's attachments: read from allowed containers, store in artifacts. */
import { RestError, type ContainerClient } from '@azure/storage-blob';
import { lazyBlobService, type BlobServiceDeps } from '../activities/artifacts.js';
import { guardedFetch } from '../net/guardedFetch.js';
import { DEFAULT_USER_AGENT } from '../net/userAgent.js';
import { PUBLIC_ONLY, type UrlPolicy } from '../net/urlPolicy.js';
import type { FileMediaType } from '../shared/fileTypes.js';
import { createFileIntake, type FetchedFile, type FileIntake } from './intake.js';

export interface BlobFilesDeps extends BlobServiceDeps {
  readonly artifactsContainer: () => string;
  /** `FILE_BLOB_CONTAINERS`. */
  readonly allowedContainers: () => readonly string[];
}

export interface BlobFiles {
  /** Reads a blob (at most `maxBytes`, else throws); undefined when it does not exist. */
  readBlob(container: string, name: string, maxBytes: number): Promise<Buffer | undefined>;
  /** Reads `<container>/<name>` for callModel, refusing containers outside the allow-list. */
  readRef(ref: string, maxBytes: number): Promise<Buffer>;
  save(name: string, body: Buffer, mediaType: FileMediaType): Promise<string>;
}

export function createBlobFiles(deps: BlobFilesDeps): BlobFiles {
  const service = lazyBlobService(deps);
  let artifacts: Promise<ContainerClient> | undefined;
  const artifactsContainer = (): Promise<ContainerClient> => {
    artifacts ??= (async () => {
      const client = service().getContainerClient(deps.artifactsContainer());
      await client.createIfNotExists();
      return client;
    })();
    artifacts.catch(() => {
      artifacts = undefined;
    });
    return artifacts;
  };

  async function readBlob(container: string, name: string, maxBytes: number): Promise<Buffer | undefined> {
    const blob = service().getContainerClient(container).getBlockBlobClient(name);
    try {
      const { contentLength = 0 } = await blob.getProperties();
      if (contentLength > maxBytes) {
        throw new Error(`${container}/${name} is ${contentLength} bytes, more than the ${maxBytes} allowed`);
      }
      return await blob.downloadToBuffer();
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  return {
    readBlob,
    async readRef(ref, maxBytes) {
      const slash = ref.indexOf('/');
      const container = ref.slice(0, slash);
      // Stored inputs and tool artifacts live in the artifacts container, always readable here.
      const allowed = [...new Set([deps.artifactsContainer(), ...deps.allowedContainers()])];
      if (slash < 1 || !allowed.includes(container)) {
        throw new Error(
          `${ref} is not in an allowed container (${allowed.join(', ')}; FILE_BLOB_CONTAINERS)`,
        );
      }
      const body = await readBlob(container, ref.slice(slash + 1), maxBytes);
      if (!body) throw new Error(`No file ${ref}`);
      return body;
    },
    async save(name, body, mediaType) {
      await (
        await artifactsContainer()
      )
        .getBlockBlobClient(name)
        .uploadData(body, { blobHTTPHeaders: { blobContentType: mediaType } });
      return `${deps.artifactsContainer()}/${name}`;
    },
  };
}

export interface DefaultIntakeOptions {
  /** Default: public addresses only. File URLs are the caller's, so `URL_POLICY_ALLOW_HOSTS` never applies. */
  readonly urlPolicy?: UrlPolicy;
  readonly timeoutMs?: number;
}

/** File intake over blob storage, with URL references fetched through the SSRF guard (src/net). */
export function createBlobFileIntake(
  files: BlobFiles,
  deps: Pick<BlobFilesDeps, 'artifactsContainer' | 'allowedContainers'>,
  options: DefaultIntakeOptions = {},
): FileIntake {
  return createFileIntake({
    async fetchUrl(url, maxBytes): Promise<FetchedFile> {
      const outcome = await guardedFetch(url, {
        policy: options.urlPolicy ?? PUBLIC_ONLY,
        origin: 'caller',
        maxBytes: maxBytes + 1,
        timeoutMs: options.timeoutMs ?? 20_000,
        maxRedirects: 5,
        userAgent: DEFAULT_USER_AGENT,
        // The bytes decide what the file is (sniffed), not the server's content type.
        acceptsContentType: () => true,
      });
      switch (outcome.kind) {
        case 'ok':
          return {
            ok: true,
            body: outcome.body,
            truncated: outcome.truncated || outcome.body.length > maxBytes,
          };
        case 'blocked':
          return { ok: false, reason: `blocked: ${outcome.reason}` };
        case 'http_error':
          return { ok: false, reason: `HTTP ${outcome.status} ${outcome.statusText}`.trim() };
        case 'too_many_redirects':
          return { ok: false, reason: 'too many redirects' };
        case 'timeout':
          return { ok: false, reason: 'timed out' };
        case 'network_error':
          return { ok: false, reason: outcome.message };
        case 'unsupported_type':
          return { ok: false, reason: `unsupported content type ${outcome.mediaType}` };
      }
    },
    readBlob: (container, name, maxBytes) => files.readBlob(container, name, maxBytes),
    allowedContainers: deps.allowedContainers,
    artifactsContainer: deps.artifactsContainer,
    save: (name, body, mediaType) => files.save(name, body, mediaType),
  });
}
