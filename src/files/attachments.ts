/**
 * callModel's side of files: load each file block's bytes from blob storage just before the call, check
 * them against the answering provider's limits (the bytes, not what the transcript claims), and estimate
 * their share of the input for the ledger.
 */
import type { ContentBlock, FileBlock, FileUsage, ModelMessage, ProviderKind } from '../shared/modelTypes.js';
import { claudeFileTokens, gptFileTokens, limitProblem, limitsOf, type FileLimits } from './limits.js';
import { describeBytes } from './sniff.js';

/** Reads `<container>/<path>` (allowed containers only), at most `maxBytes`. */
export type ReadFile = (ref: string, maxBytes: number) => Promise<Buffer>;

export class AttachmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const hasFiles = (messages: readonly ModelMessage[]) =>
  messages.some((message) =>
    message.content.some(
      (block) => block.type === 'file' || (block.type === 'tool_result' && block.files?.length),
    ),
  );

/**
 * The messages with every file's bytes in `data` (loaded once per reference) and its facts from the
 * bytes. Throws AttachmentError naming the file when it cannot be sent to `provider`.
 */
export async function loadAttachments(
  messages: ModelMessage[],
  provider: ProviderKind,
  read: ReadFile | undefined,
): Promise<ModelMessage[]> {
  if (!hasFiles(messages)) return messages;
  const limits = limitsOf(provider);
  const loaded = new Map<string, Promise<FileBlock>>();
  const resolve = (block: FileBlock): Promise<FileBlock> => {
    if (block.data !== undefined)
      return Promise.resolve(checked(block, Buffer.from(block.data, 'base64'), limits));
    const ref = block.blobRef;
    if (ref === undefined) throw new AttachmentError('A file block has neither blobRef nor data');
    if (!read) throw new AttachmentError(`File ${ref} cannot be read: callModel has no file reader`);
    let pending = loaded.get(ref);
    if (!pending) {
      pending = read(ref, Math.max(limits.imageMaxBytes, limits.pdfMaxBytes)).then(
        (body) => checked(block, body, limits),
        (error: unknown) => {
          throw new AttachmentError(`File ${ref} could not be read: ${(error as Error).message}`);
        },
      );
      loaded.set(ref, pending);
    }
    return pending;
  };
  return Promise.all(
    messages.map(async (message) => ({
      ...message,
      content: await Promise.all(
        message.content.map(async (block): Promise<ContentBlock> => {
          if (block.type === 'file') return resolve(block);
          if (block.type === 'tool_result' && block.files?.length) {
            // A tool's image the provider would refuse stays out; the model reads why instead.
            const files: FileBlock[] = [];
            const notes: string[] = [];
            for (const file of block.files) {
              try {
                files.push(await resolve(file));
              } catch (error) {
                if (!(error instanceof AttachmentError)) throw error;
                notes.push(`[image not sent: ${error.message}]`);
              }
            }
            const content = [block.content, ...notes].filter((text) => text.length > 0).join('\n');
            const { files: _dropped, ...rest } = block;
            return files.length > 0 ? { ...rest, content, files } : { ...rest, content };
          }
          return block;
        }),
      ),
    })),
  );
}

function checked(block: FileBlock, body: Buffer, limits: FileLimits): FileBlock {
  const name = block.blobRef ?? block.name ?? 'inline file';
  const described = describeBytes(body);
  if (!described.ok) throw new AttachmentError(`File ${name} ${described.problem}`);
  const facts = described.facts;
  if (facts.mediaType !== block.mediaType) {
    throw new AttachmentError(
      `File ${name} is labelled ${block.mediaType} but its bytes are ${facts.mediaType}`,
    );
  }
  const problem = limitProblem(facts, limits);
  if (problem) throw new AttachmentError(`File ${name} ${problem}`);
  return {
    ...block,
    data: body.toString('base64'),
    bytes: facts.bytes,
    ...(facts.width === undefined ? {} : { width: facts.width }),
    ...(facts.height === undefined ? {} : { height: facts.height }),
    ...(facts.pages === undefined ? {} : { pages: facts.pages }),
  };
}

/** The files a call sends and their estimated input tokens and cost (`inputUsdPerMillion`: the input rate). */
export function fileUsage(
  messages: readonly ModelMessage[],
  provider: ProviderKind,
  inputUsdPerMillion: number,
): FileUsage | undefined {
  const files = messages.flatMap((message) =>
    message.content.flatMap((block) =>
      block.type === 'file' ? [block] : block.type === 'tool_result' ? (block.files ?? []) : [],
    ),
  );
  if (files.length === 0) return undefined;
  const claude = provider === 'foundry' || provider === 'anthropic';
  let estimatedTokens = 0;
  for (const file of files) {
    estimatedTokens += claude ? claudeFileTokens(file) : gptFileTokens(file);
  }
  const documents = files.filter((file) => file.mediaType === 'application/pdf');
  return {
    images: files.length - documents.length,
    documents: documents.length,
    pages: documents.reduce((sum, file) => sum + (file.pages ?? 0), 0),
    estimatedTokens,
    estimatedCostUsd: Math.round(((estimatedTokens * inputUsdPerMillion) / 1_000_000) * 1e8) / 1e8,
  };
}
