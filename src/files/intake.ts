/**
 * File intake for the starter: each file reference in a run's input is fetched (URLs through the SSRF
 * guard), read (blobs, only from allowed containers) or decoded (inline base64), checked from its bytes
 * (magic number, size, pixels, pages) against the limits of the models the workflow can reach, and
 * stored in the artifacts container, so the run's input (and history) carries a small `{ artifact, … }`
 * instead of the bytes.
 */
import { createHash } from 'node:crypto';
import { FileReference, type CheckedFile, type FileMediaType, type StoredFile } from '../shared/fileTypes.js';
import { limitProblem, type FileLimits } from './limits.js';
import { describeBytes } from './sniff.js';

export type FetchedFile =
  | { readonly ok: true; readonly body: Buffer; readonly truncated: boolean }
  | { readonly ok: false; readonly reason: string };

export interface FileIntakeDeps {
  /** GETs a URL through the SSRF guard, reading at most `maxBytes` (+1 to notice a larger body). */
  readonly fetchUrl: (url: string, maxBytes: number) => Promise<FetchedFile>;
  /** Reads a blob, at most `maxBytes`; undefined when it does not exist; throws when it is larger. */
  readonly readBlob: (container: string, name: string, maxBytes: number) => Promise<Buffer | undefined>;
  /** `FILE_BLOB_CONTAINERS`: the only containers `{ blob }` and `{ artifact }` references may name. */
  readonly allowedContainers: () => readonly string[];
  /** Where accepted files are stored: the artifacts container. */
  readonly artifactsContainer: () => string;
  /** Stores the bytes as `<artifacts container>/<name>` and returns that blob reference. */
  readonly save: (name: string, body: Buffer, mediaType: FileMediaType) => Promise<string>;
}

export type IntakeResult = { ok: true; file: CheckedFile } | { ok: false; problem: string };

/** What an `x-file` schema node may restrict: the media types it takes (default: all accepted ones). */
export interface FileRule {
  readonly mediaTypes?: readonly FileMediaType[];
}

const EXTENSIONS: Readonly<Record<FileMediaType, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
};

function splitRef(ref: string): { container: string; name: string } {
  const slash = ref.indexOf('/');
  return { container: ref.slice(0, slash), name: ref.slice(slash + 1) };
}

export interface FileIntake {
  /** Checks and stores one reference under `limits`; the problem reads after the input path. */
  accept(raw: unknown, limits: FileLimits, rule?: FileRule): Promise<IntakeResult>;
}

export function createFileIntake(deps: FileIntakeDeps): FileIntake {
  const maxBytes = (limits: FileLimits) => Math.max(limits.imageMaxBytes, limits.pdfMaxBytes);

  async function bytesOf(
    reference: FileReference,
    limits: FileLimits,
  ): Promise<{ ok: true; body: Buffer; storedAs?: string } | { ok: false; problem: string }> {
    const cap = maxBytes(limits);
    if ('url' in reference) {
      const fetched = await deps.fetchUrl(reference.url, cap);
      if (!fetched.ok) return { ok: false, problem: `could not be fetched: ${fetched.reason}` };
      if (fetched.truncated)
        return { ok: false, problem: `is larger than ${cap} bytes, the most any file may be` };
      return { ok: true, body: fetched.body };
    }
    if ('data' in reference) return { ok: true, body: Buffer.from(reference.data, 'base64') };
    const ref = 'blob' in reference ? reference.blob : reference.artifact;
    const { container, name } = splitRef(ref);
    const allowed = deps.allowedContainers();
    if (!allowed.includes(container)) {
      return {
        ok: false,
        problem: `names container "${container}", which file references may not use; allowed: ${allowed.join(', ')} (FILE_BLOB_CONTAINERS)`,
      };
    }
    let body: Buffer | undefined;
    try {
      body = await deps.readBlob(container, name, cap);
    } catch (error) {
      return { ok: false, problem: `could not be read: ${(error as Error).message}` };
    }
    if (!body) return { ok: false, problem: `names blob ${ref}, which does not exist` };
    return { ok: true, body, ...(container === deps.artifactsContainer() ? { storedAs: ref } : {}) };
  }

  return {
    async accept(raw, limits, rule) {
      const parsed = FileReference.safeParse(raw);
      if (!parsed.success) {
        return {
          ok: false,
          problem:
            'must be a file reference: { "url" }, { "blob": "<container>/<path>" }, { "data", "mediaType" } or { "artifact" }',
        };
      }
      const reference = parsed.data;
      const read = await bytesOf(reference, limits);
      if (!read.ok) return read;
      const described = describeBytes(read.body);
      if (!described.ok) return { ok: false, problem: described.problem };
      const facts = described.facts;
      const declared = 'data' in reference ? reference.mediaType : (reference as StoredFile).mediaType;
      if (declared !== undefined && declared !== facts.mediaType) {
        return { ok: false, problem: `declares ${declared} but its bytes are ${facts.mediaType}` };
      }
      if (rule?.mediaTypes && !rule.mediaTypes.includes(facts.mediaType)) {
        return {
          ok: false,
          problem: `is ${facts.mediaType}; this input takes ${rule.mediaTypes.join(', ')}`,
        };
      }
      const tooBig = limitProblem(facts, limits);
      if (tooBig) return { ok: false, problem: tooBig };
      const sha256 = createHash('sha256').update(read.body).digest('hex');
      // Content-addressed, so a repeated start (or a retried one) stores the same blob once.
      const artifact =
        read.storedAs ??
        (await deps.save(`files/${sha256}.${EXTENSIONS[facts.mediaType]}`, read.body, facts.mediaType));
      return {
        ok: true,
        file: {
          artifact,
          mediaType: facts.mediaType,
          bytes: facts.bytes,
          ...(facts.width === undefined ? {} : { width: facts.width }),
          ...(facts.height === undefined ? {} : { height: facts.height }),
          ...(facts.pages === undefined ? {} : { pages: facts.pages }),
          sha256,
        },
      };
    },
  };
}
