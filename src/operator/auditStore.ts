/**
 * Operator actions, kept as JSON lines in append blobs: `<container>/runs/<runId>.jsonl`, one per run,
 * and `<container>/purges.jsonl`. Append blobs need no new dependency, use the app's storage connection
 * (including managed identity), make each record one atomic append, and let a run's detail read its
 * whole trail in one GET. Records outlive the purge of the run they describe.
 */
import { RestError, type BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { AuditRecord } from '../shared/operatorTypes.js';

export const DEFAULT_AUDIT_CONTAINER = 'operator-audit';
/** The `runId` of purge records, which cover every run matching a filter. */
export const PURGE_RUN_ID = '*';

export interface AuditStore {
  append(record: AuditRecord): Promise<void>;
  /** The run's records, oldest first; none for a run nobody acted on. */
  list(runId: string): Promise<AuditRecord[]>;
}

export interface BlobAuditStoreDeps {
  readonly blobServiceClient: () => BlobServiceClient;
  readonly containerName?: string;
}

export function auditBlobName(runId: string): string {
  return runId === PURGE_RUN_ID ? 'purges.jsonl' : `runs/${encodeURIComponent(runId)}.jsonl`;
}

export function parseAuditLines(text: string): AuditRecord[] {
  return text.split('\n').flatMap((line) => {
    if (line.trim() === '') return [];
    try {
      const parsed = AuditRecord.safeParse(JSON.parse(line));
      return parsed.success ? [parsed.data] : [];
    } catch {
      return []; // a torn line from an interrupted append: the rest of the trail still reads
    }
  });
}

export function createBlobAuditStore(deps: BlobAuditStoreDeps): AuditStore {
  const containerName = deps.containerName ?? DEFAULT_AUDIT_CONTAINER;
  let ready: Promise<ContainerClient> | undefined;
  const container = (): Promise<ContainerClient> => {
    ready ??= (async () => {
      const client = deps.blobServiceClient().getContainerClient(containerName);
      await client.createIfNotExists();
      return client;
    })();
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };

  return {
    async append(record) {
      const blob = (await container()).getAppendBlobClient(auditBlobName(record.runId));
      await blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: 'application/x-ndjson' } });
      const line = Buffer.from(`${JSON.stringify(AuditRecord.parse(record))}\n`, 'utf8');
      await blob.appendBlock(line, line.byteLength);
    },
    async list(runId) {
      const blob = (await container()).getAppendBlobClient(auditBlobName(runId));
      try {
        return parseAuditLines((await blob.downloadToBuffer()).toString('utf8'));
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return [];
        throw error;
      }
    },
  };
}
