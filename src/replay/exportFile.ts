/**
 * The run export file (`durable-agents runs export`, scripts/recordReplayFixtures.ts): one run's
 * orchestration histories (the run and its sub-orchestrations) with the workflow definition it ran.
 * Versioned: a reader refuses a version it does not know, naming it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { HistoryEvent } from './history.js';

export const RUN_EXPORT_FORMAT = 'durable-agents/run-export';
export const RUN_EXPORT_VERSION = 1;

/** An event as the Durable HTTP API's `showHistory` lists it (EventType by name, fields trimmed). */
export const ApiHistoryEvent = z.looseObject({ EventType: z.string(), Timestamp: z.string() });
export type ApiHistoryEvent = z.infer<typeof ApiHistoryEvent>;

export const ExportedHistory = z.discriminatedUnion('shape', [
  /** The events as the orchestration trigger carries them: replayable as they are. */
  z.object({ shape: z.literal('orchestration'), events: z.array(HistoryEvent) }),
  /** The events as the Durable HTTP API returned them (see apiHistory.ts for what replay needs of them). */
  z.object({ shape: z.literal('httpApi'), events: z.array(ApiHistoryEvent) }),
]);
export type ExportedHistory = z.infer<typeof ExportedHistory>;

export const ExportedInstance = z.object({
  instanceId: z.string().min(1),
  /** The orchestrator function. */
  name: z.string().min(1),
  parentInstanceId: z.string().nullable(),
  runtimeStatus: z.string(),
  /** The current execution's input, JSON text. */
  input: z.string().nullable(),
  history: ExportedHistory,
});
export type ExportedInstance = z.infer<typeof ExportedInstance>;

export const ExportedWorkflow = z.object({
  name: z.string(),
  version: z.string().nullable(),
  /** The definition's file name under the workflows folder. */
  file: z.string(),
  /** sha256 of `source`, lowercase hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  /** The YAML text. */
  source: z.string(),
});
export type ExportedWorkflow = z.infer<typeof ExportedWorkflow>;

export const RunExport = z.object({
  format: z.literal(RUN_EXPORT_FORMAT),
  version: z.literal(RUN_EXPORT_VERSION),
  exportedAt: z.string(),
  /** Where the histories came from. */
  source: z.enum(['devhost-store', 'durable-http-api']),
  run: z.object({
    instanceId: z.string().min(1),
    name: z.string().min(1),
    runtimeStatus: z.string(),
    createdTime: z.string().nullable(),
    lastUpdatedTime: z.string().nullable(),
  }),
  workflow: ExportedWorkflow.nullable(),
  /** The run first, then its sub-orchestrations (parents before children). */
  instances: z.array(ExportedInstance).min(1),
});
export type RunExport = z.infer<typeof RunExport>;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Parses an export file's text, with an error that names the file and every problem. */
export function parseRunExport(text: string, file: string): RunExport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const head = z.object({ format: z.string(), version: z.number() }).safeParse(json);
  if (!head.success || head.data.format !== RUN_EXPORT_FORMAT) {
    throw new Error(`${file} is not a run export (no "format": "${RUN_EXPORT_FORMAT}").`);
  }
  if (head.data.version !== RUN_EXPORT_VERSION) {
    throw new Error(
      `${file} is run export version ${head.data.version}; this build reads version ${RUN_EXPORT_VERSION}.`,
    );
  }
  const parsed = RunExport.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 10)
      .map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`${file} is not a valid run export:\n${problems.join('\n')}`);
  }
  return parsed.data;
}
