import { z } from 'zod';
import { WorkflowDefinition } from '../definitions/schema.js';
import { ProviderKind, TokenUsage, ToolDefinition } from './modelTypes.js';

/** One row of a run's cost ledger: everything spent by one step on one role and deployment. */
export const LedgerRow = z.strictObject({
  stepId: z.string(),
  role: z.string(),
  provider: ProviderKind,
  deployment: z.string(),
  calls: z.number().int().nonnegative(),
  usage: TokenUsage,
  costUsd: z.number().nonnegative(),
  offline: z.boolean(),
});
export type LedgerRow = z.infer<typeof LedgerRow>;

export const Ledger = z.strictObject({
  rows: z.array(LedgerRow),
  totals: z.strictObject({
    calls: z.number().int().nonnegative(),
    usage: TokenUsage,
    costUsd: z.number().nonnegative(),
  }),
});
export type Ledger = z.infer<typeof Ledger>;

export const RunBudget = z.strictObject({
  maxCostUsd: z.number().positive().optional(),
  maxTokens: z.number().int().positive().optional(),
});
export type RunBudget = z.infer<typeof RunBudget>;

/** Orchestration input of `runWorkflow`: everything it needs, resolved outside the orchestrator. */
export const RunWorkflowInput = z.strictObject({
  definition: WorkflowDefinition,
  input: z.unknown(),
  /** Definitions `workflow` steps may call (transitively), by name. */
  workflows: z.record(z.string(), WorkflowDefinition).default({}),
  /** Specs of the tools the definitions' agent steps may offer, by tool name. */
  tools: z.record(z.string(), ToolDefinition).default({}),
  /** For a child run: what the parent may still spend (the child's own budget can only lower it). */
  inheritedBudget: RunBudget.optional(),
  /** The top-level run id, for artifacts and ledger rows of child runs. */
  rootRunId: z.string().optional(),
});
export type RunWorkflowInput = z.infer<typeof RunWorkflowInput>;

export const RunOutcome = z.enum(['completed', 'budget_exceeded', 'failed']);
export type RunOutcome = z.infer<typeof RunOutcome>;

/** Orchestration output of `runWorkflow`. */
export const RunWorkflowOutput = z.strictObject({
  outcome: RunOutcome,
  workflow: z.string(),
  version: z.union([z.string(), z.number()]),
  output: z.unknown(),
  /** Set when the outcome is not `completed`: which step stopped the run and why. */
  error: z.strictObject({ stepId: z.string().optional(), kind: z.string(), message: z.string() }).optional(),
  ledger: Ledger,
});
export type RunWorkflowOutput = z.infer<typeof RunWorkflowOutput>;

/** Custom status while a run is in flight: what operators and `GET /api/runs/{id}` show as progress. */
export const RunProgress = z.strictObject({
  workflow: z.string(),
  version: z.union([z.string(), z.number()]),
  step: z.string().optional(),
  stepIndex: z.number().int().nonnegative(),
  stepCount: z.number().int().positive(),
  map: z.strictObject({ stepId: z.string(), done: z.number().int(), total: z.number().int() }).optional(),
  waitingFor: z.strictObject({ event: z.string(), until: z.string() }).optional(),
  usage: TokenUsage,
  costUsd: z.number().nonnegative(),
});
export type RunProgress = z.infer<typeof RunProgress>;
