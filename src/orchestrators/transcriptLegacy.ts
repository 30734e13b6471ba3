/**
 * The agent transcript as instances older than `ORCHESTRATION_VERSIONS.transcriptClaimCheck` keep it
 * (src/orchestrators/version.ts): the whole transcript in the loop and in its continueAsNew carry; once
 * it grows, a snapshot goes to blob storage through `saveArtifact` and callModel gets
 * `{ blobRef, tail }`. Kept unchanged so those runs replay as they ran; new instances use
 * transcript.ts (appendTranscript, `{ ref }`). Remove when no such instance is left
 * (docs/operations.md, "Orchestration versioning").
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { SavedArtifact, type SaveArtifactInput } from '../shared/artifactTypes.js';
import type { LegacyTranscriptRef, ModelMessage } from '../shared/modelTypes.js';
import { Names } from '../shared/names.js';
import { jsonChars, type LegacyTranscriptSnapshot } from '../shared/transcripts.js';
import { INFRASTRUCTURE_RETRY } from './modelPolicy.js';

export interface LegacyTranscript {
  /** The whole transcript, snapshot included. */
  readonly messages: readonly ModelMessage[];
  readonly snapshot?: LegacyTranscriptSnapshot;
}

/** Blob names allow one path segment per part; instance ids may hold anything. */
function pathSegment(text: string): string {
  return text.replace(/[^A-Za-z0-9._:[\]-]/g, '_').replace(/^\.+$/, '_');
}

function snapshotDue(
  snapshot: LegacyTranscriptSnapshot,
  tail: readonly ModelMessage[],
  offloadChars: number,
): boolean {
  return jsonChars(tail) > Math.max(offloadChars, snapshot.chars / 4);
}

/**
 * The transcript as callModel should receive it (inline while small, else a reference), writing a
 * new snapshot first when one is due.
 */
export function* legacyTranscriptForModel(
  context: OrchestrationContext,
  transcript: LegacyTranscript,
  owner: { readonly runId: string; readonly label: string },
  offloadChars: number,
): Generator<
  Task,
  { messages: ModelMessage[] | LegacyTranscriptRef; transcript: LegacyTranscript },
  unknown
> {
  const { messages, snapshot } = transcript;
  if (snapshot === undefined && jsonChars(messages) <= offloadChars) {
    return { messages: [...messages], transcript };
  }
  const tail = messages.slice(snapshot?.messageCount ?? 0);
  if (snapshot !== undefined && !snapshotDue(snapshot, tail, offloadChars)) {
    return { messages: { blobRef: snapshot.blobRef, ...(tail.length > 0 ? { tail } : {}) }, transcript };
  }
  const content = JSON.stringify(messages);
  const request: SaveArtifactInput = {
    runId: pathSegment(owner.runId),
    name: `transcripts/${pathSegment(owner.label)}/${messages.length}.json`,
    contentType: 'application/json',
    content,
  };
  const saved = SavedArtifact.parse(
    yield context.df.callActivityWithRetry(Names.activities.saveArtifact, INFRASTRUCTURE_RETRY, request),
  );
  const next: LegacyTranscriptSnapshot = {
    blobRef: saved.blobRef,
    messageCount: messages.length,
    chars: content.length,
  };
  return { messages: { blobRef: saved.blobRef }, transcript: { messages, snapshot: next } };
}
