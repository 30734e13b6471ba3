import { z } from 'zod';
import { parseIsoDuration } from './duration.js';

/** Longest approval wait we accept: durable timers can go further, but an unanswered run should not live forever. */
export const MAX_APPROVAL_TIMEOUT_MS = 30 * 86_400_000;

export const IsoDuration = z.string().refine(
  (text) => {
    const ms = parseIsoDuration(text);
    return ms !== undefined && ms > 0 && ms <= MAX_APPROVAL_TIMEOUT_MS;
  },
  {
    message:
      'Expected an ISO-8601 duration between PT1S and P30D, e.g. "PT15M" or "P1DT12H" (no years or months)',
  },
);
export type IsoDuration = z.infer<typeof IsoDuration>;

export const ApprovalOptions = z.strictObject({
  required: z.boolean(),
  timeout: IsoDuration,
});
export type ApprovalOptions = z.infer<typeof ApprovalOptions>;

export const DocumentDigestInput = z.strictObject({
  title: z.string().trim().min(1).max(200),
  paragraphs: z.array(z.string().trim().min(1).max(20_000)).min(1).max(50),
  approval: ApprovalOptions.optional(),
});
export type DocumentDigestInput = z.infer<typeof DocumentDigestInput>;

export const SummarizeParagraphInput = z.strictObject({
  index: z.number().int().nonnegative(),
  text: z.string(),
});
export type SummarizeParagraphInput = z.infer<typeof SummarizeParagraphInput>;

export const ParagraphSummary = z.strictObject({
  index: z.number().int().nonnegative(),
  firstSentence: z.string(),
  wordCount: z.number().int().nonnegative(),
});
export type ParagraphSummary = z.infer<typeof ParagraphSummary>;

export const ComposeDigestInput = z.strictObject({
  title: z.string(),
  summaries: z.array(ParagraphSummary).min(1),
});
export type ComposeDigestInput = z.infer<typeof ComposeDigestInput>;

export const Digest = z.strictObject({
  title: z.string(),
  paragraphCount: z.number().int().positive(),
  wordCount: z.number().int().nonnegative(),
  readingMinutes: z.number().int().positive(),
  summary: z.string(),
  outline: z.array(ParagraphSummary),
});
export type Digest = z.infer<typeof Digest>;

/** Payload of the `approval` external event. */
export const ApprovalDecision = z.strictObject({
  approved: z.boolean(),
  by: z.string().max(200).optional(),
  comment: z.string().max(2_000).optional(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

export const ApprovalOutcome = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('not-required') }),
  z.strictObject({
    status: z.enum(['approved', 'rejected']),
    decidedAt: z.iso.datetime(),
    by: z.string().optional(),
    comment: z.string().optional(),
  }),
  z.strictObject({ status: z.literal('timed-out'), decidedAt: z.iso.datetime() }),
]);
export type ApprovalOutcome = z.infer<typeof ApprovalOutcome>;

export const DocumentDigestOutput = z.strictObject({
  digest: Digest,
  approval: ApprovalOutcome,
});
export type DocumentDigestOutput = z.infer<typeof DocumentDigestOutput>;

/** The orchestration's custom status, readable by any status poller while it runs. */
export const DigestProgress = z.strictObject({
  step: z.enum(['summarizing', 'composing', 'awaiting-approval', 'done']),
  done: z.number().int().nonnegative(),
  total: z.number().int().positive(),
});
export type DigestProgress = z.infer<typeof DigestProgress>;
