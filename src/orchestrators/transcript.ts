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

/** How the agent loop compacts: which messages stay and which are summarized. */
export interface CompactionPlan {
  /** The first user message (the task), kept as is. */
  readonly first: ModelMessage;
  /** The older turns to summarize. */
  readonly older: readonly ModelMessage[];
  /** The last turns, kept as is; starts at an assistant turn, so no tool_result loses its tool_use. */
  readonly recent: readonly ModelMessage[];
}

/**
 * Splits a transcript for compaction, keeping the first message and the last `keepTurns` turns (an
 * assistant turn with the tool results after it). Undefined when there is too little to summarize.
 */
export function planCompaction(
  messages: readonly ModelMessage[],
  keepTurns: number,
): CompactionPlan | undefined {
  const [first] = messages;
  if (first === undefined) return undefined;
  const assistantTurns = messages.flatMap((message, index) =>
    index > 0 && message.role === 'assistant' ? [index] : [],
  );
  const recentStart = assistantTurns.at(-keepTurns);
  if (recentStart === undefined || recentStart < 3) return undefined;
  return { first, older: messages.slice(1, recentStart), recent: messages.slice(recentStart) };
}

const SUMMARY_BLOCK_CHARS = 2_000;

const clip = (text: string) =>
  text.length <= SUMMARY_BLOCK_CHARS
    ? text
    : `${text.slice(0, SUMMARY_BLOCK_CHARS)}…[${text.length - SUMMARY_BLOCK_CHARS} more characters]`;

/** The older turns as plain text for the summarizer (tool calls and results included, each block clipped). */
export function renderTurns(messages: readonly ModelMessage[]): string {
  return messages
    .flatMap((message) =>
      message.content.map((block) => {
        switch (block.type) {
          case 'text':
            return `[${message.role}] ${clip(block.text)}`;
          case 'tool_use':
            return `[${message.role} called ${block.name} (${block.id})] ${clip(JSON.stringify(block.input))}`;
          case 'tool_result':
            return `[result of ${block.toolUseId}${block.isError ? ', error' : ''}] ${clip(block.content)}`;
          case 'provider':
            return `[${message.role} ${block.provider} block] ${clip(JSON.stringify(block.block))}`;
          case 'file':
            return `[${message.role} attached ${block.mediaType} ${block.name ?? block.blobRef ?? ''}]`;
        }
      }),
    )
    .join('\n');
}

export const COMPACTION_SYSTEM =
  "You compress an AI agent's earlier work so it can continue without it. Write a concise summary " +
  'of what was asked, what was done, every fact, number and source found, what failed, and what is ' +
  'still open. Do not address the user and do not continue the task.';

/** The summarizer's prompt. */
export function compactionPrompt(plan: CompactionPlan): string {
  return `Summarize these earlier turns of the agent:\n\n${renderTurns(plan.older)}`;
}

/** The transcript after compaction: the task, one summary message, then the recent turns. */
export function compactedMessages(plan: CompactionPlan, summary: string): ModelMessage[] {
  return [
    plan.first,
    userMessage(`Summary of the earlier turns, compacted to stay within the context window:\n\n${summary}`),
    ...plan.recent,
  ];
}
