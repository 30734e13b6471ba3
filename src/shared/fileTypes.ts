/**
 * File references: the one shape wherever a workflow takes a file (an input property the schema marks
 * with `"x-file"`, a step's `attach`), and the stored form the starter turns every reference into, so
 * history carries a blob reference rather than the bytes. See src/files/README.md.
 */
import { z } from 'zod';

/** The media types a model step accepts: Claude's image and PDF types, which GPT also takes. */
export const FILE_MEDIA_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
] as const;
export const FileMediaType = z.enum(FILE_MEDIA_TYPES, {
  error: `must be one of ${FILE_MEDIA_TYPES.join(', ')}`,
});
export type FileMediaType = z.infer<typeof FileMediaType>;

export const isImageType = (mediaType: FileMediaType): boolean => mediaType !== 'application/pdf';

/**
 * Standard base64 with padding (what both providers take in `data` / data URLs). A flat character class
 * plus a length check rather than a grouped pattern: a repeated group overflows the regex engine's stack
 * on multi-megabyte strings.
 */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

/** Blob container names: 3-63 lower-case letters, digits and single hyphens. */
const CONTAINER = '(?=[a-z0-9-]{3,63}/)[a-z0-9]+(?:-[a-z0-9]+)*';
const BLOB_REF = new RegExp(`^${CONTAINER}/(?!/)[^\\\\]+$`);

const wholeNonNegative = z.int().nonnegative();

/**
 * A file in this app's blob storage, with what the starter (or callModel) learned from its bytes. Also
 * how a caller names an artifact an earlier step or run produced (`mediaType` etc. are then checked
 * against the bytes, never trusted).
 */
export const StoredFile = z.strictObject({
  artifact: z.string().regex(BLOB_REF, { error: 'must be "<container>/<path>"' }),
  mediaType: FileMediaType.optional(),
  bytes: wholeNonNegative.optional(),
  width: z.int().positive().optional(),
  height: z.int().positive().optional(),
  pages: z.int().positive().optional(),
  /** sha256 of the bytes, hex. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type StoredFile = z.infer<typeof StoredFile>;

/** What the starter guarantees after intake: every fact known. */
export type CheckedFile = StoredFile & { mediaType: FileMediaType; bytes: number; sha256: string };

export const UrlFileReference = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
});
export const BlobFileReference = z.strictObject({
  blob: z.string().regex(BLOB_REF, { error: 'must be "<container>/<path>"' }),
});
export const DataFileReference = z.strictObject({
  data: z.string().min(1).refine(isBase64, { error: 'must be standard base64' }),
  mediaType: FileMediaType,
});

/** The one file-reference shape: a URL, a blob, inline base64, or an artifact already in storage. */
export const FileReference = z.union([UrlFileReference, BlobFileReference, DataFileReference, StoredFile]);
export type FileReference = z.infer<typeof FileReference>;

/** The JSON Schema the `x-file` keyword stands for (for OpenAPI and the workflow reference). */
export const FILE_REFERENCE_JSON_SCHEMA = {
  oneOf: [
    { type: 'object', required: ['url'], properties: { url: { type: 'string', format: 'uri' } } },
    { type: 'object', required: ['blob'], properties: { blob: { type: 'string' } } },
    {
      type: 'object',
      required: ['data', 'mediaType'],
      properties: { data: { type: 'string' }, mediaType: { enum: [...FILE_MEDIA_TYPES] } },
    },
    { type: 'object', required: ['artifact'], properties: { artifact: { type: 'string' } } },
  ],
} as const;
