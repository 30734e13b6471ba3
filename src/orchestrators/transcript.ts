/**
 * Keeps the agent's transcript out of history (claim check): the loop holds only the messages since its
 * last snapshot. While those are small they go to callModel inline (with the snapshot's reference, once
 * there is one); past `offloadChars` the `appendTranscript` activity adds them to the snapshot in Blob
 * storage and returns the new snapshot's reference. So every callModel and appendTranscript input, and
 * the continueAsNew carry, holds at most about `offloadChars` of transcript, however long the loop runs;
 * the activities, not the orchestrator, read the whole transcript.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ModelMessage, TranscriptRef } from '../shared/modelTypes.js';
import { Names } from '../shared/names.js';
import { jsonChars, TranscriptSnapshot, type AppendTranscriptInput } from '../shared/transcripts.js';
import { INFRASTRUCTURE_RETRY } from './modelPolicy.js';

export {
  COMPACTION_SYSTEM,
  compactedMessages,
  compactionPrompt,
  jsonChars,
  planCompaction,
  renderTurns,
  userMessage,
  type CompactionPlan,
} from '../shared/transcripts.js';

export interface Transcript {
  /** The messages after the snapshot (all of them while there is none). */
  readonly messages: readonly ModelMessage[];
  readonly snapshot?: TranscriptSnapshot;
}

export function appendMessage(transcript: Transcript, message: ModelMessage): Transcript {
  return { ...transcript, messages: [...transcript.messages, message] };
}

/** Where the loop's snapshots go, and the turn that makes each blob name unique. */
export interface TranscriptOwner {
  readonly runId: string;
  readonly label: string;
  readonly turn: number;
}

/** The transcript's message count, snapshot included. */
export function messageCount(transcript: Transcript): number {
  return (transcript.snapshot?.messageCount ?? 0) + transcript.messages.length;
}

/** Adds the messages since the snapshot to it (a new snapshot); a transcript with none is returned as is. */
export function* flushTranscript(
  context: OrchestrationContext,
  transcript: Transcript,
  owner: TranscriptOwner,
): Generator<Task, Transcript, unknown> {
  if (transcript.messages.length === 0) return transcript;
  const request: AppendTranscriptInput = {
    runId: owner.runId,
    label: owner.label,
    name: `t${owner.turn}-${messageCount(transcript)}.json`,
    ...(transcript.snapshot ? { base: transcript.snapshot } : {}),
    messages: [...transcript.messages],
  };
  const snapshot = TranscriptSnapshot.parse(
    yield context.df.callActivityWithRetry(Names.activities.appendTranscript, INFRASTRUCTURE_RETRY, request),
  );
  return { messages: [], snapshot };
}

/**
 * The transcript as callModel should receive it: inline while small and never stored, else the
 * snapshot's reference with the messages since as `tail`, flushing those first once they pass
 * `offloadChars`.
 */
export function* transcriptForModel(
  context: OrchestrationContext,
  transcript: Transcript,
  owner: TranscriptOwner,
  offloadChars: number,
): Generator<Task, { messages: ModelMessage[] | TranscriptRef; transcript: Transcript }, unknown> {
  const { messages, snapshot } = transcript;
  if (jsonChars(messages) <= offloadChars) {
    if (snapshot === undefined) return { messages: [...messages], transcript };
    return {
      messages: { ref: snapshot.ref, ...(messages.length > 0 ? { tail: [...messages] } : {}) },
      transcript,
    };
  }
  const flushed = yield* flushTranscript(context, transcript, owner);
  const ref = flushed.snapshot?.ref;
  if (ref === undefined) throw new Error('appendTranscript returned no snapshot');
  return { messages: { ref }, transcript: flushed };
}
