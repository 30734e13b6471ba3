import { z } from 'zod';

const hasControlChars = (text: string): boolean =>
  [...text].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
const MAX_BLOB_NAME_LENGTH = 1024;

/** A run id as used in blob names: one path segment. */
export const ArtifactRunId = z
  .string()
  .min(1)
  .max(256)
  .refine((id) => !/[/\\]/.test(id) && !hasControlChars(id) && id !== '.' && id !== '..', {
    error: 'must be one path segment (no "/", "\\", control characters, "." or "..")',
  });

/** A name inside a run's folder: relative, `/`-separated, no empty, `.` or `..` segments. */
export const ArtifactName = z
  .string()
  .min(1)
  .max(512)
  .refine(
    (name) =>
      !name.includes('\\') &&
      !hasControlChars(name) &&
      name.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'),
    {
      error:
        'must be a relative path such as "report.md" or "charts/sales.png" (no "", "." or ".." segments)',
    },
  );

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Input of the `saveArtifact` activity: text in `content`, or bytes in `contentBase64`. */
export const SaveArtifactInput = z
  .strictObject({
    runId: ArtifactRunId,
    name: ArtifactName,
    contentType: z.string().min(1).max(255),
    content: z.string().optional(),
    contentBase64: z.string().regex(BASE64, { error: 'must be standard base64' }).optional(),
  })
  .refine((input) => (input.content === undefined) !== (input.contentBase64 === undefined), {
    error: 'set exactly one of content and contentBase64',
  })
  .refine((input) => input.runId.length + input.name.length + 1 <= MAX_BLOB_NAME_LENGTH, {
    error: `runId and name together must stay within ${MAX_BLOB_NAME_LENGTH} characters`,
  });
export type SaveArtifactInput = z.infer<typeof SaveArtifactInput>;

/** Output of `saveArtifact`: where it is (`<container>/<runId>/<name>`) and its size. */
export const SavedArtifact = z.strictObject({
  blobRef: z.string().min(1),
  bytes: z.number().int().nonnegative(),
});
export type SavedArtifact = z.infer<typeof SavedArtifact>;
