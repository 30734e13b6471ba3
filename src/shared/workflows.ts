import type { z } from 'zod';
import { Names, WorkflowNames } from './names.js';
import { DocumentDigestInput } from './schemas.js';

export interface WorkflowEntry {
  /** Orchestrator function that runs the workflow. */
  readonly orchestrator: string;
  /** Validates the HTTP body before anything is started. */
  readonly input: z.ZodType;
}

export type WorkflowRegistry = ReadonlyMap<string, WorkflowEntry>;

/** The workflows reachable through `POST /api/workflows/{name}`. */
export const workflows: WorkflowRegistry = new Map<string, WorkflowEntry>([
  [
    WorkflowNames.documentDigest,
    { orchestrator: Names.orchestrators.documentDigest, input: DocumentDigestInput },
  ],
]);
