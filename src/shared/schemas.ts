import { z } from 'zod';

/** Payload of an approval step's external event. */
export const ApprovalDecision = z.strictObject({
  approved: z.boolean(),
  by: z.string().max(200).optional(),
  comment: z.string().max(2_000).optional(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;
