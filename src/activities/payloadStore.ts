/**
 * The activity side of the claim check (src/shared/payloadRef.ts): stores a JSON payload as a blob and
 * returns its reference; loads a reference back, refusing one outside this app's container, of another
 * size, or whose SHA-256 differs (a blob overwritten or corrupted since). Blobs are written once under a
 * name the caller makes unique per content (run, step, message count), so a retried activity rewrites the
 * same bytes.
 */
import { createHash } from 'node:crypto';
import { RestError } from '@azure/storage-blob';
import { PayloadRef } from '../shared/payloadRef.js';
import { ArtifactError, lazyContainer, type ArtifactStoreDeps } from './artifacts.js';

/** The blob service and the container the payloads go to (the app uses its artifacts container). */
export type PayloadStoreDeps = ArtifactStoreDeps;

export interface PayloadStore {
  /** Writes `value` as JSON at `path` in the payload container. */
  store(path: string, value: unknown): Promise<PayloadRef>;
  /** Reads a reference this store wrote, checked against its size and SHA-256; the caller validates the shape. */
  load(ref: PayloadRef): Promise<unknown>;
}

export function sha256Hex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

export function createPayloadStore(deps: PayloadStoreDeps): PayloadStore {
  const { containerName, container } = lazyContainer(deps);

  return {
    async store(path, value) {
      const text = JSON.stringify(value);
      if (text === undefined) throw new Error(`Cannot store ${typeof value} at ${path}: not JSON`);
      const body = Buffer.from(text, 'utf8');
      const ref = PayloadRef.parse({
        container: containerName(),
        path,
        size: body.length,
        sha256: sha256Hex(body),
      });
      await (
        await container()
      )
        .getBlockBlobClient(ref.path)
        .uploadData(body, { blobHTTPHeaders: { blobContentType: 'application/json' } });
      return ref;
    },
    async load(raw) {
      const ref = PayloadRef.parse(raw);
      const where = `${ref.container}/${ref.path}`;
      if (ref.container !== containerName()) {
        throw new ArtifactError(
          `Payload ${where} is outside this app's payload container "${containerName()}"`,
          'invalid_ref',
        );
      }
      let body: Buffer;
      try {
        body = await (await container()).getBlockBlobClient(ref.path).downloadToBuffer();
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) {
          throw new ArtifactError(`No payload ${where}`, 'not_found', { cause: error });
        }
        throw error;
      }
      if (body.length !== ref.size || sha256Hex(body) !== ref.sha256) {
        throw new Error(
          `Payload ${where} changed since it was stored: ${body.length} bytes with SHA-256 ${sha256Hex(body)}, ` +
            `expected ${ref.size} bytes with ${ref.sha256}`,
        );
      }
      try {
        return JSON.parse(body.toString('utf8')) as unknown;
      } catch (error) {
        throw new Error(`Payload ${where} is not JSON: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}
