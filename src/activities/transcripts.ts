/**
 * The agent loop's transcript activities (claim check): the loop sends only the messages since its last
 * snapshot; these load the snapshot from Blob storage, append or compact, and store the result as a new
 * snapshot, so the whole transcript never travels through orchestration history.
 */
import { z } from 'zod';
import { ModelMessage } from '../shared/modelTypes.js';
import {
  AppendTranscriptInput,
  compactedMessages,
  compactionPrompt,
  FinishCompactionInput,
  planCompaction,
  PrepareCompactionInput,
  userMessage,
  type PrepareCompactionOutput,
  type TranscriptSnapshot,
} from '../shared/transcripts.js';
import { describeIssues, parseActivityInput } from './activityInput.js';
import type { PayloadStore } from './payloadStore.js';

export interface TranscriptActivities {
  readonly appendTranscript: (input: unknown) => Promise<TranscriptSnapshot>;
  readonly prepareCompaction: (input: unknown) => Promise<PrepareCompactionOutput>;
  readonly finishCompaction: (input: unknown) => Promise<TranscriptSnapshot>;
}

/** Blob names allow one path segment per part; instance ids and step ids may hold anything. */
function pathSegment(text: string): string {
  return text.replace(/[^A-Za-z0-9._:[\]-]/g, '_').replace(/^\.+$/, '_');
}

function placeOf(input: { runId: string; label: string; name: string }): string {
  return `${pathSegment(input.runId)}/transcripts/${pathSegment(input.label)}/${input.name}`;
}

export function createTranscriptActivities(store: PayloadStore): TranscriptActivities {
  async function messagesOf(snapshot: TranscriptSnapshot): Promise<ModelMessage[]> {
    const parsed = z
      .array(ModelMessage)
      .min(1)
      .safeParse(await store.load(snapshot.ref));
    const where = `${snapshot.ref.container}/${snapshot.ref.path}`;
    if (!parsed.success) {
      throw new Error(`Transcript ${where} is not a list of messages: ${describeIssues(parsed.error)}`);
    }
    if (parsed.data.length !== snapshot.messageCount) {
      throw new Error(
        `Transcript ${where} holds ${parsed.data.length} messages, not the ${snapshot.messageCount} expected`,
      );
    }
    return parsed.data;
  }

  async function snapshotOf(path: string, messages: ModelMessage[]): Promise<TranscriptSnapshot> {
    const ref = await store.store(path, messages);
    return { ref, messageCount: messages.length, chars: JSON.stringify(messages).length };
  }

  return {
    async appendTranscript(raw) {
      const input = parseActivityInput(AppendTranscriptInput, raw, 'appendTranscript');
      const before = input.base ? await messagesOf(input.base) : [];
      return snapshotOf(placeOf(input), [...before, ...input.messages]);
    },
    async prepareCompaction(raw) {
      const input = parseActivityInput(PrepareCompactionInput, raw, 'prepareCompaction');
      const plan = planCompaction(await messagesOf(input.transcript), input.keepTurns);
      if (plan === undefined) return { due: false };
      const prompt = await store.store(placeOf(input), [userMessage(compactionPrompt(plan))]);
      return { due: true, prompt, older: plan.older.length };
    },
    async finishCompaction(raw) {
      const input = parseActivityInput(FinishCompactionInput, raw, 'finishCompaction');
      const plan = planCompaction(await messagesOf(input.transcript), input.keepTurns);
      if (plan === undefined) {
        throw new Error(
          `Transcript ${input.transcript.ref.path} has nothing to compact with keepTurns ${input.keepTurns}`,
        );
      }
      return snapshotOf(placeOf(input), compactedMessages(plan, input.summary));
    },
  };
}
