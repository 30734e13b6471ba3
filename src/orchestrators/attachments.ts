/**
 * A step's `attach`: the values its expressions yield, as file blocks of the first user message. Pure
 * (no I/O): the blocks carry blob references, and callModel loads and checks the bytes.
 */
import type { z } from 'zod';
import { compileExpression, evaluate, type ExpressionScope } from '../definitions/expressions.js';
import { FileMediaType, StoredFile } from '../shared/fileTypes.js';
import type { FileBlock, ModelMessage } from '../shared/modelTypes.js';
import { ArtifactRef } from '../shared/toolTypes.js';
import { stepFailed } from './runStopped.js';

/** At most this many files in one step's prompt (Claude takes 100 images a request; PDFs count pages). */
export const MAX_ATTACHMENTS = 20;

function blockOf(value: unknown): FileBlock | string {
  const stored = StoredFile.safeParse(value);
  if (stored.success) {
    const file = stored.data;
    if (!file.mediaType) return `${file.artifact} has no mediaType; attach files the starter checked`;
    return {
      type: 'file',
      mediaType: file.mediaType,
      blobRef: file.artifact,
      ...(file.bytes === undefined ? {} : { bytes: file.bytes }),
      ...(file.width === undefined ? {} : { width: file.width }),
      ...(file.height === undefined ? {} : { height: file.height }),
      ...(file.pages === undefined ? {} : { pages: file.pages }),
    };
  }
  const artifact = ArtifactRef.safeParse(value);
  if (artifact.success) {
    const mediaType = FileMediaType.safeParse(artifact.data.contentType);
    if (!mediaType.success) {
      return `artifact ${artifact.data.name} is ${artifact.data.contentType}, not an image or PDF`;
    }
    return {
      type: 'file',
      mediaType: mediaType.data,
      blobRef: artifact.data.blobRef,
      bytes: artifact.data.bytes,
      name: artifact.data.name.split('/').pop() ?? artifact.data.name,
    };
  }
  return `${String(JSON.stringify(value)).slice(0, 120)} is not a file (expected a checked input file or an artifact)`;
}

/** The step's attachments; a value that is not a file fails the step naming the expression. */
export function attachmentsOf(
  expressions: readonly string[] | undefined,
  scope: ExpressionScope,
  stepLabel: string,
): FileBlock[] {
  const blocks: FileBlock[] = [];
  for (const expression of expressions ?? []) {
    const value = evaluate(compileExpression(expression), scope);
    for (const item of Array.isArray(value) ? value : [value]) {
      const block = blockOf(item);
      if (typeof block === 'string') {
        throw stepFailed(stepLabel, 'invalid_attachment', `attach "${expression}": ${block}`);
      }
      blocks.push(block);
    }
  }
  if (blocks.length > MAX_ATTACHMENTS) {
    throw stepFailed(
      stepLabel,
      'invalid_attachment',
      `attach yields ${blocks.length} files; at most ${MAX_ATTACHMENTS}`,
    );
  }
  return blocks;
}

/** The first user message: the files first (Claude reads images best before the text), then the prompt. */
export function promptMessage(text: string, files: readonly FileBlock[] = []): ModelMessage {
  return { role: 'user', content: [...files, { type: 'text', text }] };
}

/** Image artifacts a tool produced, as file blocks to return with its result (z-checked, none when not images). */
export function imageArtifacts(artifacts: readonly z.infer<typeof ArtifactRef>[]): FileBlock[] {
  return artifacts.flatMap((artifact) => {
    const mediaType = FileMediaType.safeParse(artifact.contentType);
    if (!mediaType.success || mediaType.data === 'application/pdf') return [];
    return [
      {
        type: 'file' as const,
        mediaType: mediaType.data,
        blobRef: artifact.blobRef,
        bytes: artifact.bytes,
        name: artifact.name.split('/').pop() ?? artifact.name,
      },
    ];
  });
}
