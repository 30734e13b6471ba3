import type { z } from 'zod';

/** A zod error as `/path: message` pairs (at most 8), for the error an activity throws on bad input. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 8)
    .map((issue) => `${issue.path.length > 0 ? `/${issue.path.join('/')}` : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Parses an activity's input; a bad one throws `Invalid <activity> input: …` naming each problem. */
export function parseActivityInput<T>(schema: z.ZodType<T>, raw: unknown, activity: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new Error(`Invalid ${activity} input: ${describeIssues(parsed.error)}`);
}
