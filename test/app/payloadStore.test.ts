import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, inject, it } from 'vitest';
import { createPayloadStore, sha256Hex } from '../../src/activities/payloadStore.js';
import { createTranscriptActivities } from '../../src/activities/transcripts.js';
import { Secret } from '../../src/models/secret.js';
import type { ModelMessage } from '../../src/shared/modelTypes.js';
import { TranscriptSnapshot } from '../../src/shared/transcripts.js';

/** The claim check's activity side against the test run's Azurite, through the real storage SDK. */
const connectionString = inject('azuriteConnectionString');
const containerName = `payloads-${process.pid}`;
const connection = () => ({
  kind: 'connection-string' as const,
  connectionString: new Secret(connectionString),
});

const text = (role: 'user' | 'assistant', value: string): ModelMessage => ({
  role,
  content: [{ type: 'text', text: value }],
});

describe('payload store (claim check)', () => {
  const store = createPayloadStore({ connection, containerName });

  it('stores JSON with its size and SHA-256 and loads it back', async () => {
    const value = { notes: 'é'.repeat(40_000) };
    const ref = await store.store('run-1/big.json', value);
    const body = Buffer.from(JSON.stringify(value), 'utf8');
    expect(ref).toEqual({
      container: containerName,
      path: 'run-1/big.json',
      size: body.length,
      sha256: sha256Hex(body),
    });
    expect(await store.load(ref)).toEqual(value);
  });

  it('refuses a body that changed since, a reference to another container, and a missing blob', async () => {
    const ref = await store.store('run-1/changed.json', [1, 2, 3]);
    await BlobServiceClient.fromConnectionString(connectionString)
      .getContainerClient(containerName)
      .getBlockBlobClient(ref.path)
      .upload('[1,2,4]', 7);
    await expect(store.load(ref)).rejects.toThrow(
      /changed since it was stored: 7 bytes with SHA-256 [0-9a-f]{64}, expected 7 bytes/,
    );
    await expect(store.load({ ...ref, container: 'someone-else' })).rejects.toThrow(
      `outside this app's payload container "${containerName}"`,
    );
    await expect(store.load({ ...ref, path: 'run-1/none.json' })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(store.load({ ...ref, sha256: 'XYZ' })).rejects.toThrow(/sha256/);
  });

  it('appends to and compacts a transcript snapshot, sending only the new messages', async () => {
    const transcripts = createTranscriptActivities(store);
    const place = { runId: 'run/2', label: 'research step' };
    const first = TranscriptSnapshot.parse(
      await transcripts.appendTranscript({ ...place, name: 't0-1.json', messages: [text('user', 'task')] }),
    );
    expect(first.ref.path).toBe('run_2/transcripts/research_step/t0-1.json');
    const turns = [1, 2, 3].flatMap((n) => [text('assistant', `step ${n}`), text('user', `result ${n}`)]);
    const second = TranscriptSnapshot.parse(
      await transcripts.appendTranscript({ ...place, name: 't3-7.json', base: first, messages: turns }),
    );
    expect(second.messageCount).toBe(7);
    expect(await store.load(second.ref)).toEqual([text('user', 'task'), ...turns]);
    await expect(
      transcripts.appendTranscript({
        ...place,
        name: 'x.json',
        base: { ...first, messageCount: 2 },
        messages: turns,
      }),
    ).rejects.toThrow('holds 1 messages, not the 2 expected');

    const prepared = await transcripts.prepareCompaction({
      ...place,
      name: 't3-c.json',
      transcript: second,
      keepTurns: 1,
    });
    expect(prepared).toMatchObject({ due: true, older: 4 });
    if (!prepared.due) throw new Error('expected a compaction');
    expect(JSON.stringify(await store.load(prepared.prompt))).toContain('step 1');
    const compacted = await transcripts.finishCompaction({
      ...place,
      name: 't3-compacted.json',
      transcript: second,
      keepTurns: 1,
      summary: 'Did steps 1 and 2.',
    });
    const messages = (await store.load(compacted.ref)) as ModelMessage[];
    expect(messages[0]).toEqual(text('user', 'task'));
    expect(JSON.stringify(messages[1])).toContain('Did steps 1 and 2.');
    expect(messages.slice(2)).toEqual(turns.slice(4));
    expect(
      await transcripts.prepareCompaction({ ...place, name: 'n.json', transcript: first, keepTurns: 1 }),
    ).toEqual({
      due: false,
    });
  });
});
