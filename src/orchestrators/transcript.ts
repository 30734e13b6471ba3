/**
 * Keeps the agent's transcript out of activity history once it grows: a snapshot goes to blob
 * storage (`saveArtifact`) and callModel gets `{ blobRef, tail }`, the tail being the messages added
 * since. A new snapshot is written only when the tail outgrows max(threshold, snapshot / 4), so each
 * callModel input stays small and the snapshots written grow geometrically (their total stays a
 * small multiple of the transcript) instead of re-saving everything every turn.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { SavedArtifact, type SaveArtifactInput } from '../shared/artifactTypes.js';
import type { ModelMessage, TranscriptRef } from '../shared/modelTypes.js';
import { Names } from '../shared/names.js';
import type { TranscriptSnapshot } from '../shared/runTypes.js';
import { INFRASTRUCTURE_RETRY } from './modelPolicy.js';

export interface Transcript {
  readonly messages: readonly ModelMessage[];
  readonly snapshot?: TranscriptSnapshot;
}

export function userMessage(text: string): ModelMessage {
  return { role: 'user', content: [{ type: 'text', text }] };
}

export function appendMessage(transcript: Transcript, message: ModelMessage): Transcript {
  return { ...transcript, messages: [...transcript.messages, message] };
}

export function jsonChars(value: unknown): number {
  return JSON.stringify(value).length;
}

/** Blob names allow one path segment per part; instance ids may hold anything. */
function pathSegment(text: string): string {
  return text.replace(/[^A-Za-z0-9._:[\]-]/g, '_').replace(/^\.+$/, '_');
}

export interface TranscriptOwner {
  readonly runId: string;
  readonly label: string;
}

function snapshotDue(
  snapshot: TranscriptSnapshot,
  tail: readonly ModelMessage[],
  offloadChars: number,
): boolean {
  return jsonChars(tail) > Math.max(offloadChars, snapshot.chars / 4);
}

/**
 * The transcript as callModel should receive it (inline while small, else a reference), writing a
 * new snapshot first when one is due.
 */
export function* transcriptForModel(
  context: OrchestrationContext,
  transcript: Transcript,
  owner: TranscriptOwner,
  offloadChars: number,
): Generator<Task, { messages: ModelMessage[] | TranscriptRef; transcript: Transcript }, unknown> {
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
  const next: TranscriptSnapshot = {
    blobRef: saved.blobRef,
    messageCount: messages.length,
    chars: content.length,
  };
  return { messages: { blobRef: saved.blobRef }, transcript: { messages, snapshot: next } };
}
