import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const TimeSpan = z
  .string()
  .regex(/^(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?$/, 'expected a TimeSpan like "00:05:00" or "1.00:00:00"');

/** The parts of host.json the devhost honours; everything else is accepted and ignored. */
const HostJson = z.looseObject({
  version: z.literal('2.0', { error: 'host.json "version" must be "2.0"' }),
  functionTimeout: TimeSpan.optional(),
  extensions: z
    .looseObject({
      http: z.looseObject({ routePrefix: z.string().optional() }).optional(),
      queues: z
        .looseObject({
          maxDequeueCount: z.number().int().min(1).optional(),
          visibilityTimeout: TimeSpan.optional(),
          batchSize: z.number().int().min(1).max(32).optional(),
          newBatchThreshold: z.number().int().min(0).optional(),
          maxPollingInterval: TimeSpan.optional(),
          messageEncoding: z.enum(['base64', 'none']).optional(),
        })
        .optional(),
      durableTask: z
        .looseObject({
          hubName: z
            .string()
            .regex(/^[A-Za-z][A-Za-z0-9]{2,49}$/, 'hubName: 3-50 letters or digits, starting with a letter')
            .optional(),
          maxConcurrentActivityFunctions: z.number().int().min(1).optional(),
          maxConcurrentOrchestratorFunctions: z.number().int().min(1).optional(),
        })
        .optional(),
    })
    .optional(),
});
export type HostJson = z.infer<typeof HostJson>;

export interface HostConfig {
  routePrefix: string;
  functionTimeoutMs: number | undefined;
  taskHubName: string;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
  queues: NonNullable<NonNullable<HostJson['extensions']>['queues']>;
  raw: HostJson;
}

export function timeSpanToMs(value: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value);
  if (!match) throw new Error(`"${value}" is not a TimeSpan like "00:05:00"`);
  const [, days, hours, minutes, seconds, fraction] = match;
  const whole = ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
  return whole * 1000 + Math.round(Number(`0.${fraction ?? '0'}`) * 1000);
}

/** Reads and validates host.json; defaults follow the Functions host and Durable extension. */
export function readHostConfig(appDir: string, cores: number): HostConfig {
  const file = path.join(appDir, 'host.json');
  if (!existsSync(file)) throw new Error(`No host.json in app folder ${appDir}.`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = HostJson.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${file} is invalid:\n${problems.join('\n')}`);
  }
  const hostJson = parsed.data;
  const durable = hostJson.extensions?.durableTask;
  return {
    routePrefix: (hostJson.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, ''),
    functionTimeoutMs: hostJson.functionTimeout ? timeSpanToMs(hostJson.functionTimeout) : undefined,
    taskHubName: durable?.hubName ?? 'TestHubName',
    maxConcurrentActivityFunctions: durable?.maxConcurrentActivityFunctions ?? 10 * cores,
    maxConcurrentOrchestratorFunctions: durable?.maxConcurrentOrchestratorFunctions ?? 10 * cores,
    queues: hostJson.extensions?.queues ?? {},
    raw: hostJson,
  };
}
