import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/app.js';
import { ConfigError } from '../../src/config/section.js';
import { refusedContainer } from '../../src/functions/queue/workflowRequests.js';

describe('QUEUE_BLOB_CONTAINERS', () => {
  it('defaults to the artifacts container and "batches"', () => {
    expect(parseConfig({}).queueBlobContainers).toEqual(['agent-artifacts', 'batches']);
    expect(parseConfig({ ARTIFACTS_CONTAINER: 'run-files' }).queueBlobContainers).toEqual([
      'run-files',
      'batches',
    ]);
  });

  it('reads a comma-separated list and names invalid container names', () => {
    expect(parseConfig({ QUEUE_BLOB_CONTAINERS: ' intake , results,intake' }).queueBlobContainers).toEqual([
      'intake',
      'results',
    ]);
    expect(() => parseConfig({ QUEUE_BLOB_CONTAINERS: 'intake,Bad_Name,' })).toThrow(ConfigError);
    expect(() => parseConfig({ QUEUE_BLOB_CONTAINERS: 'intake,Bad_Name,' })).toThrow(
      'QUEUE_BLOB_CONTAINERS must be comma-separated blob container names (3-63 lower-case letters, digits and single hyphens); not valid: "Bad_Name", ""',
    );
  });
});

describe('refusedContainer (queue batch messages)', () => {
  const allowed = ['agent-artifacts', 'batches'];
  it('allows refs in the listed containers', () => {
    expect(
      refusedContainer(allowed, {
        itemsBlob: 'batches/in.jsonl',
        outputBlob: 'agent-artifacts/b/results.jsonl',
      }),
    ).toBeUndefined();
    expect(
      refusedContainer(allowed, { itemsBlob: 'batches/in.jsonl', outputBlob: undefined }),
    ).toBeUndefined();
  });

  it('names the field, the ref, the container and the setting', () => {
    expect(refusedContainer(allowed, { itemsBlob: 'azure-webjobs-secrets/host.json' })).toBe(
      'itemsBlob azure-webjobs-secrets/host.json is in container "azure-webjobs-secrets", which queue messages may not use; allowed: agent-artifacts, batches (QUEUE_BLOB_CONTAINERS)',
    );
    expect(
      refusedContainer(allowed, { itemsBlob: 'batches/in.jsonl', outputBlob: 'operator-audit/x.jsonl' }),
    ).toMatch(/^outputBlob operator-audit\/x.jsonl is in container "operator-audit"/);
  });
});
