/**
 * Images and PDFs for GPT, as data URLs (the form both APIs take inline; URL and file-id inputs need the
 * file reachable by, or uploaded to, OpenAI). Chat Completions: `image_url` and `file` content parts
 * (ChatCompletionContentPartImage / ChatCompletionContentPart.File in
 * node_modules/openai/resources/chat/completions/completions.d.ts). Responses: `input_image` and
 * `input_file` (ResponseInputImage, ResponseInputFile in node_modules/openai/resources/responses/responses.d.ts;
 * https://developers.openai.com/api/docs/guides/pdf-files). Chat `tool` messages take text only, so a
 * tool result's images follow as a user message; Responses `function_call_output` takes them directly.
 */
import type { ChatCompletionContentPart } from 'openai/resources/chat/completions';
import type { ResponseInputFile, ResponseInputImage } from 'openai/resources/responses/responses';
import type { FileBlock } from '../shared/modelTypes.js';

const EXTENSION: Readonly<Record<FileBlock['mediaType'], string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
};

function dataUrl(block: FileBlock): string {
  if (block.data === undefined) {
    throw new Error(
      `File ${block.blobRef ?? '(no reference)'} reached the OpenAI provider without its bytes`,
    );
  }
  return `data:${block.mediaType};base64,${block.data}`;
}

const fileName = (block: FileBlock, index: number) =>
  block.name ?? `file-${index + 1}.${EXTENSION[block.mediaType]}`;

export function chatFilePart(block: FileBlock, index: number): ChatCompletionContentPart {
  if (block.mediaType === 'application/pdf') {
    return { type: 'file', file: { filename: fileName(block, index), file_data: dataUrl(block) } };
  }
  return { type: 'image_url', image_url: { url: dataUrl(block), detail: 'auto' } };
}

export function responsesFilePart(block: FileBlock, index: number): ResponseInputImage | ResponseInputFile {
  if (block.mediaType === 'application/pdf') {
    return { type: 'input_file', filename: fileName(block, index), file_data: dataUrl(block) };
  }
  return { type: 'input_image', image_url: dataUrl(block), detail: 'auto' };
}
