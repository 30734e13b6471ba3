/**
 * Agent transcripts: the pure helpers both the agent loop (src/orchestrators/agentLoop.ts) and the
 * transcript activities (src/activities/transcripts.ts) use, and the activities' inputs and outputs.
 * The loop keeps only the messages since its last snapshot; the whole transcript lives in Blob storage
 * behind a PayloadRef, appended and compacted by activities, so no history event carries it whole.
 */
import { z } from 'zod';
import { ArtifactName } from './artifactTypes.js';
import { ModelMessage } from './modelTypes.js';
import { PayloadRef } from './payloadRef.js';

export function userMessage(text: string): ModelMessage {
  return { role: 'user', content: [{ type: 'text', text }] };
}

export function jsonChars(value: unknown): number {
  return JSON.stringify(value).length;
}

/** The transcript up to `messageCount` messages, stored as a JSON array of messages. */
export const TranscriptSnapshot = z.strictObject({
  ref: PayloadRef,
  messageCount: z.int().positive(),
  /** Characters of the stored JSON, to decide when the loop compacts or snapshots. */
  chars: z.int().nonnegative(),
});
export type TranscriptSnapshot = z.infer<typeof TranscriptSnapshot>;

/**
 * The snapshot of instances older than the transcript claim check (src/orchestrators/transcriptLegacy.ts):
 * saved by `saveArtifact`, covering the first `messageCount` messages of the whole transcript.
 */
export const LegacyTranscriptSnapshot = z.strictObject({
  blobRef: z.string().min(1),
  messageCount: z.int().positive(),
  chars: z.int().nonnegative(),
});
export type LegacyTranscriptSnapshot = z.infer<typeof LegacyTranscriptSnapshot>;

/** Where a transcript activity writes: `<runId>/transcripts/<label>/<name>` in the payload container. */
const TranscriptPlace = {
  /** The run (any text; made one path segment). */
  runId: z.string().min(1).max(256),
  /** The loop's step id (any text; made one path segment). */
  label: z.string().min(1).max(256),
  /** Unique per content within the label, e.g. `t12-25.json` (turn 12, 25 messages). */
  name: ArtifactName,
};

/** `appendTranscript`: the snapshot so far (none at first) plus the messages added since, as a new snapshot. */
export const AppendTranscriptInput = z.strictObject({
  ...TranscriptPlace,
  base: TranscriptSnapshot.optional(),
  messages: z.array(ModelMessage).min(1),
});
export type AppendTranscriptInput = z.infer<typeof AppendTranscriptInput>;

/** `prepareCompaction`: the summarizer's request for a transcript, or `due: false` when there is too little to summarize. */
export const PrepareCompactionInput = z.strictObject({
  ...TranscriptPlace,
  transcript: TranscriptSnapshot,
  keepTurns: z.int().min(1),
});
export type PrepareCompactionInput = z.infer<typeof PrepareCompactionInput>;

export const PrepareCompactionOutput = z.discriminatedUnion('due', [
  z.strictObject({ due: z.literal(false) }),
  z.strictObject({
    due: z.literal(true),
    /** The summarizer's one-message transcript (callModel reads it by reference). */
    prompt: PayloadRef,
    /** How many messages it summarizes. */
    older: z.int().positive(),
  }),
]);
export type PrepareCompactionOutput = z.infer<typeof PrepareCompactionOutput>;

/** `finishCompaction`: the transcript with the same older turns replaced by the summary, as a new snapshot. */
export const FinishCompactionInput = z.strictObject({
  ...TranscriptPlace,
  transcript: TranscriptSnapshot,
  keepTurns: z.int().min(1),
  summary: z.string(),
});
export type FinishCompactionInput = z.infer<typeof FinishCompactionInput>;

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
