/**
 * Images and PDFs in requests to the offline model: checked as the real APIs check them (400 with the
 * provider's wording where it is known), counted as they bill them, and read for their text
 * (documentText.ts) so answers come from the bytes. Limits and token formulas: src/files/limits.ts.
 */
import {
  base64Length,
  claudeFileTokens,
  CLAUDE_FILE_LIMITS,
  gptFileTokens,
  OPENAI_FILE_LIMITS,
} from '../files/limits.js';
import { describeBytes, type FileFacts } from '../files/sniff.js';
import { isBase64, type FileMediaType } from '../shared/fileTypes.js';
import { tokens } from './constants.js';
import { documentText } from './documentText.js';

type Json = Record<string, unknown>;
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A file the request carried, with its facts, its text and the input tokens it costs. */
export interface SeenFile {
  readonly facts: FileFacts;
  readonly text: string;
  readonly tokens: number;
  /** Characters of base64 the request spent on it (taken out of the prompt's text count). */
  readonly base64Chars: number;
}

export type FileCheck = { ok: true; files: SeenFile[] } | { ok: false; problem: string };

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
/** More than 20 images in one request: each at most 2000x2000 (https://docs.claude.com/en/docs/build-with-claude/vision). */
const MANY_IMAGES = 20;
const MANY_IMAGES_MAX_SIDE = 2000;
/** "up to 100 for API requests" (same page). */
const MAX_IMAGES = 100;

function textOf(bytes: Buffer, facts: FileFacts): string {
  return documentText(bytes, facts.mediaType).slice(0, 100_000);
}

/**
 * Claude `image` and `document` blocks, in messages and inside `tool_result` content. Wording of the
 * errors: "…image.source.base64: image exceeds 5 MB maximum: N bytes > 5242880 bytes"
 * (github.com/anthropics/claude-code/issues/19631), "…image.source.base64.data: At least one of the image
 * dimensions exceed max allowed size: 8000 pixels" (issues/4778), "…pdf.source.base64.data: A maximum of 100
 * PDF pages may be provided." (issues/6231); the media-type and base64 messages follow the API's field-path
 * style but were not seen verbatim. Only base64 and text sources can be read offline.
 */
export function claudeFileCheck(messages: readonly unknown[]): FileCheck {
  const found: { path: string; block: Json }[] = [];
  messages.forEach((message, m) => {
    const content = isObject(message) && Array.isArray(message.content) ? message.content : [];
    content.forEach((block: unknown, c) => {
      if (!isObject(block)) return;
      if (block.type === 'image' || block.type === 'document')
        found.push({ path: `messages.${m}.content.${c}`, block });
      if (block.type === 'tool_result' && Array.isArray(block.content)) {
        block.content.forEach((part: unknown, p) => {
          if (isObject(part) && (part.type === 'image' || part.type === 'document')) {
            found.push({ path: `messages.${m}.content.${c}.content.${p}`, block: part });
          }
        });
      }
    });
  });
  const images = found.filter(({ block }) => block.type === 'image').length;
  if (images > MAX_IMAGES)
    return { ok: false, problem: `messages: Too many images: ${images} > ${MAX_IMAGES}` };
  const files: SeenFile[] = [];
  let pages = 0;
  for (const { path, block } of found) {
    const source = isObject(block.source) ? block.source : undefined;
    // The API names the block by its source kind in error paths: `…content.2.image.source…`, `…content.0.pdf.source…`.
    const kind = block.type === 'image' ? 'image' : 'pdf';
    if (!source) return { ok: false, problem: `${path}.source: Field required` };
    if (block.type === 'document' && source.type === 'text') continue;
    if (source.type !== 'base64') {
      return {
        ok: false,
        problem: `${path}.${kind}.source.type: the offline model reads base64 sources only (got ${String(source.type)})`,
      };
    }
    const declared = String(source.media_type);
    if (block.type === 'image' && !IMAGE_TYPES.includes(declared)) {
      return {
        ok: false,
        problem: `${path}.${kind}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`,
      };
    }
    if (block.type === 'document' && declared !== 'application/pdf') {
      return {
        ok: false,
        problem: `${path}.${kind}.source.base64.media_type: Input should be 'application/pdf'`,
      };
    }
    const data = typeof source.data === 'string' ? source.data : '';
    // Size first, as the API reports it before reading the image.
    if (kind === 'image' && data.length > CLAUDE_FILE_LIMITS.imageMaxBytes) {
      return {
        ok: false,
        problem: `${path}.${kind}.source.base64: image exceeds 5 MB maximum: ${data.length} bytes > ${CLAUDE_FILE_LIMITS.imageMaxBytes} bytes`,
      };
    }
    if (data === '' || !isBase64(data)) {
      return {
        ok: false,
        problem: `${path}.${kind}.source.base64.data: The ${kind} data is not valid base64`,
      };
    }
    const bytes = Buffer.from(data, 'base64');
    const described = describeBytes(bytes);
    if (!described.ok || described.facts.mediaType !== declared) {
      return {
        ok: false,
        problem:
          kind === 'image'
            ? `${path}.${kind}.source.base64.data: Image does not match the provided media type ${declared}`
            : `${path}.${kind}.source.base64.data: The PDF specified was not valid.`,
      };
    }
    const facts = described.facts;
    if (kind === 'image') {
      const maxSide = images > MANY_IMAGES ? MANY_IMAGES_MAX_SIDE : CLAUDE_FILE_LIMITS.imageMaxSide;
      if (Math.max(facts.width ?? 0, facts.height ?? 0) > maxSide) {
        return {
          ok: false,
          problem: `${path}.${kind}.source.base64.data: At least one of the image dimensions exceed max allowed size: ${maxSide} pixels`,
        };
      }
    } else {
      if (facts.encrypted)
        return { ok: false, problem: `${path}.${kind}.source.base64.data: The PDF specified was not valid.` };
      pages += facts.pages ?? 0;
      // The page limit is per request ("Maximum pages per request", pdf-support).
      if (pages > CLAUDE_FILE_LIMITS.pdfMaxPages) {
        return {
          ok: false,
          problem: `${path}.${kind}.source.base64.data: A maximum of ${CLAUDE_FILE_LIMITS.pdfMaxPages} PDF pages may be provided.`,
        };
      }
    }
    const text = textOf(bytes, facts);
    files.push({
      facts,
      text,
      tokens: claudeFileTokens(facts, kind === 'pdf' ? tokens(text.length) : 0),
      base64Chars: data.length,
    });
  }
  return { ok: true, files };
}

/** `data:<type>;base64,<data>` → its parts, or undefined. */
function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return match ? { mediaType: match[1] ?? '', data: match[2] ?? '' } : undefined;
}

/**
 * OpenAI image and file parts (Chat `image_url` / `file`, Responses `input_image` / `input_file`) with data
 * URLs: the media type must match the bytes and the image fit 20 MB (https://platform.openai.com/docs/guides/images-vision);
 * wording follows OpenAI's `invalid_request_error` style ("Invalid image data" / "Invalid file data"),
 * not seen verbatim. Remote URLs and file ids cannot be read offline.
 */
export function openAIFileCheck(
  parts: readonly { path: string; url?: string; fileData?: string }[],
): FileCheck {
  const files: SeenFile[] = [];
  for (const part of parts) {
    const url = part.url ?? part.fileData ?? '';
    const parsed = parseDataUrl(url);
    if (!parsed) {
      return { ok: false, problem: `${part.path}: the offline model reads base64 data URLs only` };
    }
    if (!isBase64(parsed.data)) return { ok: false, problem: `${part.path}: Invalid base64 data.` };
    const bytes = Buffer.from(parsed.data, 'base64');
    const described = describeBytes(bytes);
    const expectImage = part.url !== undefined;
    if (
      !described.ok ||
      described.facts.mediaType !== (parsed.mediaType as FileMediaType) ||
      (described.facts.mediaType === 'application/pdf') === expectImage
    ) {
      return {
        ok: false,
        problem: `${part.path}: Invalid ${expectImage ? 'image' : 'file'} data: the bytes are not a valid ${parsed.mediaType}`,
      };
    }
    const facts = described.facts;
    if (expectImage && facts.bytes > OPENAI_FILE_LIMITS.imageMaxBytes) {
      return {
        ok: false,
        problem: `${part.path}: Image exceeds the ${OPENAI_FILE_LIMITS.imageMaxBytes}-byte limit.`,
      };
    }
    const text = textOf(bytes, facts);
    files.push({
      facts,
      text,
      tokens: gptFileTokens(facts, expectImage ? 0 : tokens(text.length)),
      base64Chars: base64Length(facts.bytes),
    });
  }
  return { ok: true, files };
}

/** Image and file parts of OpenAI messages / input items (Chat and Responses shapes), with their paths. */
export function openAIFileParts(
  list: readonly unknown[],
  root: string,
): { path: string; url?: string; fileData?: string }[] {
  const parts: { path: string; url?: string; fileData?: string }[] = [];
  list.forEach((item, i) => {
    if (!isObject(item)) return;
    for (const key of ['content', 'output'] as const) {
      const content = item[key];
      if (!Array.isArray(content)) continue;
      content.forEach((part: unknown, j) => {
        if (!isObject(part)) return;
        const path = `${root}.${i}.${key}.${j}`;
        if (part.type === 'image_url' && isObject(part.image_url))
          parts.push({ path, url: str(part.image_url.url) });
        if (part.type === 'input_image') parts.push({ path, url: str(part.image_url) });
        if (part.type === 'file' && isObject(part.file))
          parts.push({ path, fileData: str(part.file.file_data) });
        if (part.type === 'input_file') parts.push({ path, fileData: str(part.file_data) });
      });
    }
  });
  return parts;
}

/**
 * The view with its files counted: the base64 text leaves the prompt's character count and the files'
 * tokens join it (at the offline model's characters per token), and their text is what it read.
 */
export function withFiles<T extends { promptChars: number; attachmentText?: string }>(
  view: T,
  files: readonly SeenFile[],
  charsPerToken: number,
): T {
  if (files.length === 0) return view;
  const base64 = files.reduce((sum, file) => sum + file.base64Chars, 0);
  const fileTokens = files.reduce((sum, file) => sum + file.tokens, 0);
  return {
    ...view,
    promptChars: Math.max(0, view.promptChars - base64) + fileTokens * charsPerToken,
    attachmentText: files
      .map((file) => file.text)
      .filter((text) => text.length > 0)
      .join('\n'),
  };
}
