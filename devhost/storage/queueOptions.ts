/**
 * host.json `extensions.queues` as the Storage Queues extension 5.x reads it (QueuesOptions),
 * plus the .NET TimeSpan syntax (`[d.]hh:mm[:ss[.fffffff]]`) that host.json durations use.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';

export interface QueuesOptions {
  /** Messages fetched per poll (1-32). Default 16. */
  batchSize: number;
  /** Fetch the next batch once in-flight invocations drop to this. Default (batchSize / 2) × CPU count. */
  newBatchThreshold: number;
  /** Upper bound of the empty-queue backoff. Azure default 1 min; devhost default 2 s. */
  maxPollingIntervalMs: number;
  /** Delay before a failed message becomes visible again. Default 0. */
  visibilityTimeoutMs: number;
  /** Attempts before a failing message moves to `<queue>-poison`. Default 5. */
  maxDequeueCount: number;
  /** `base64` (default) or `none`. */
  messageEncoding: 'base64' | 'none';
}

/** Lower bound of the empty-queue backoff (QueuePollingIntervals.Minimum in the extension). */
export const MIN_POLLING_INTERVAL_MS = 100;
export const DEFAULT_LOCAL_MAX_POLLING_INTERVAL_MS = 2000;

const TIMESPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/;

/** Parse a .NET TimeSpan string (`hh:mm:ss`, `d.hh:mm:ss`, `hh:mm`, optional fraction) to milliseconds. */
export function parseTimeSpan(text: string): number | undefined {
  const match = TIMESPAN.exec(text.trim());
  if (match === null) return undefined;
  const [, days, hours, minutes, seconds, fraction] = match;
  const h = Number(hours);
  const m = Number(minutes);
  const s = Number(seconds ?? '0');
  if (h > 23 || m > 59 || s > 59) return undefined;
  const ms = fraction === undefined ? 0 : Math.round(Number(`0.${fraction}`) * 1000);
  return ((Number(days ?? '0') * 24 + h) * 60 + m) * 60_000 + s * 1000 + ms;
}

const timeSpan = (what: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseTimeSpan(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${what} "${text}" is not a TimeSpan like "00:00:30"` });
      return z.NEVER;
    }
    return ms;
  });

const hostQueuesSchema = z
  .object({
    batchSize: z.number().int().min(1).max(32).optional(),
    newBatchThreshold: z.number().int().min(0).optional(),
    maxPollingInterval: z
      .union([z.number().int().min(MIN_POLLING_INTERVAL_MS), timeSpan('maxPollingInterval')])
      .optional(),
    visibilityTimeout: timeSpan('visibilityTimeout').optional(),
    maxDequeueCount: z.number().int().min(1).optional(),
    messageEncoding: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['base64', 'none']))
      .optional(),
  })
  .loose();

/**
 * Read `extensions.queues` from a parsed host.json (anything else is ignored).
 * @throws Error listing each invalid setting with its path.
 */
export function queuesOptionsFromHostJson(hostJson: unknown): QueuesOptions {
  const extensions = (hostJson as { extensions?: { queues?: unknown } } | undefined)?.extensions;
  const parsed = hostQueuesSchema.safeParse(extensions?.queues ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `extensions.queues.${i.path.join('.')}: ${i.message}`);
    throw new Error(`host.json is invalid:\n  ${problems.join('\n  ')}`);
  }
  const q = parsed.data;
  const batchSize = q.batchSize ?? 16;
  const maxPollingIntervalMs = q.maxPollingInterval ?? DEFAULT_LOCAL_MAX_POLLING_INTERVAL_MS;
  if (maxPollingIntervalMs < MIN_POLLING_INTERVAL_MS) {
    throw new Error(
      `host.json is invalid: extensions.queues.maxPollingInterval must be at least ${MIN_POLLING_INTERVAL_MS} ms.`,
    );
  }
  return {
    batchSize,
    newBatchThreshold: q.newBatchThreshold ?? Math.floor(batchSize / 2) * availableParallelism(),
    maxPollingIntervalMs,
    visibilityTimeoutMs: q.visibilityTimeout ?? 0,
    maxDequeueCount: q.maxDequeueCount ?? 5,
    messageEncoding: q.messageEncoding ?? 'base64',
  };
}
