import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, inject, it } from 'vitest';
import { ArtifactError, createArtifactActivities } from '../../src/activities/artifacts.js';
import { Secret } from '../../src/models/secret.js';

/** saveArtifact / loadArtifact against the test run's Azurite, through the real storage SDK. */
const connectionString = inject('azuriteConnectionString');
const containerName = `artifacts-${process.pid}`;

describe('artifacts in blob storage', () => {
  const artifacts = createArtifactActivities({
    connection: () => ({ kind: 'connection-string', connectionString: new Secret(connectionString) }),
    containerName,
  });

  it('round-trips text and bytes under <container>/<runId>/<name>, creating the container', async () => {
    const saved = await artifacts.saveArtifact({
      runId: 'run-1',
      name: 'report.md',
      contentType: 'text/markdown',
      content: '# Héllo',
    });
    expect(saved).toEqual({
      blobRef: `${containerName}/run-1/report.md`,
      bytes: Buffer.byteLength('# Héllo'),
    });
    expect(await artifacts.loadText(saved.blobRef)).toBe('# Héllo');

    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]);
    const image = await artifacts.saveArtifact({
      runId: 'run-1',
      name: 'charts/sales.png',
      contentType: 'image/png',
      contentBase64: png.toString('base64'),
    });
    expect(image).toEqual({ blobRef: `${containerName}/run-1/charts/sales.png`, bytes: 6 });
    expect(await artifacts.loadArtifact(image.blobRef)).toEqual(png);

    const blob = BlobServiceClient.fromConnectionString(connectionString)
      .getContainerClient(containerName)
      .getBlobClient('run-1/charts/sales.png');
    expect((await blob.getProperties()).contentType).toBe('image/png');
  });

  it('overwrites on a retry with the same name, so a repeated activity is harmless', async () => {
    const input = { runId: 'run-2', name: 'transcript.json', contentType: 'application/json' };
    await artifacts.saveArtifact({ ...input, content: '[1]' });
    const again = await artifacts.saveArtifact({ ...input, content: '[{"role":"user"}]' });
    expect(await artifacts.loadJson(again.blobRef)).toEqual([{ role: 'user' }]);
  });

  it('refuses bad input, refs outside its container, missing and oversized blobs', async () => {
    await expect(
      artifacts.saveArtifact({ runId: 'r', name: '../escape', contentType: 'text/plain', content: 'x' }),
    ).rejects.toThrow(/Invalid saveArtifact input: name/);
    await expect(
      artifacts.saveArtifact({ runId: 'a/b', name: 'x', contentType: 'text/plain', content: 'x' }),
    ).rejects.toThrow(/runId/);
    await expect(
      artifacts.saveArtifact({
        runId: 'r',
        name: 'x',
        contentType: 'text/plain',
        content: 'x',
        contentBase64: 'eA==',
      }),
    ).rejects.toThrow(/exactly one of content and contentBase64/);

    await expect(artifacts.loadArtifact('azure-webjobs-hosts/locks/x')).rejects.toMatchObject({
      code: 'invalid_ref',
    });
    await expect(artifacts.loadArtifact(`${containerName}/run-1/../../x`)).rejects.toMatchObject({
      code: 'invalid_ref',
    });
    await expect(artifacts.loadArtifact(`${containerName}/run-1/missing.txt`)).rejects.toBeInstanceOf(
      ArtifactError,
    );
    await expect(artifacts.loadArtifact(`${containerName}/run-1/missing.txt`)).rejects.toMatchObject({
      code: 'not_found',
    });
    const saved = await artifacts.saveArtifact({
      runId: 'run-3',
      name: 'big.txt',
      contentType: 'text/plain',
      content: 'x'.repeat(100),
    });
    await expect(artifacts.loadArtifact(saved.blobRef, { maxBytes: 10 })).rejects.toMatchObject({
      code: 'too_large',
    });
  });

  it('says what to set when storage is not configured, only when first used', async () => {
    const unconfigured = createArtifactActivities({ connection: () => undefined, containerName });
    await expect(
      unconfigured.saveArtifact({ runId: 'r', name: 'x', contentType: 'text/plain', content: 'x' }),
    ).rejects.toThrow(/AzureWebJobsStorage/);
  });
});
