import { z } from 'zod';
import { ArtifactRef, ToolLimits } from './toolTypes.js';
import { CarriedDefinition } from './carriedDefinition.js';
import {
  FileBlock,
  FileUsage,
  ServerToolUse,
  JsonSchema,
  ModelMessage,
  ModelRouteSpec,
  ProviderKind,
  ReasoningEffort,
  RoleName,
  TokenUsage,
  ToolDefinition,
  EffortSetting,
  ThinkingSetting,
} from './modelTypes.js';
import { ModelBatchFailureKind, ModelBatchOptions, ModelBatchProgress } from './providerBatchTypes.js';
import { CallbackDelivery, CompletionCallback } from './requestTypes.js';
import { RunTrace } from './traceTypes.js';
import { LegacyTranscriptSnapshot, TranscriptSnapshot } from './transcripts.js';

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
  /** Calls made through the provider's batch API, billed at the batch rate; kept apart from direct calls. */
  batch: z.boolean().optional(),
  /** The image and PDF inputs of these calls, with their estimated tokens and cost (part of `usage`). */
  files: FileUsage.optional(),
  /** Claude server tools these calls used and their fees (part of `costUsd`). */
  serverTools: ServerToolUse.optional(),
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

/**
 * Every `kind` the app writes into a `RunError` (a run's or agent's `error`, a batch item's `error`, the
 * `Failed` status message): the model and provider batch failure kinds (modelTypes.ts FailureKind,
 * providerBatchTypes.ts ModelBatchFailureKind), then the orchestrators' and batch jobs' own. These strings
 * are wire values stored in run outputs, histories and callbacks: never rename one
 * (test/unit/errorKinds.test.ts pins the list). `BudgetExceeded` predates the snake_case style and stays.
 */
export const RunErrorKind = z.enum([
  ...ModelBatchFailureKind.options,
  // A step's activity threw after its infrastructure retries (modelPolicy.ts callActivityOrStop).
  'activity_failed',
  // The model answered but not in a usable form (modelPolicy.ts answerOf).
  'no_structured_output',
  // Agent steps (agentLoop.ts, steps.ts).
  'tool_failed',
  'max_turns',
  'agent_failed',
  'unknown_tool',
  // Child workflows and map steps (steps.ts).
  'child_failed',
  'unknown_workflow',
  'invalid_concurrency',
  'invalid_map_input',
  // Approvals (approval.ts) and attachments (attachments.ts).
  'approval_rejected',
  'approval_timeout',
  'invalid_attachment',
  // Provider batches of `batch: true` steps (providerBatch.ts, providerBatchStep.ts).
  'batch_timeout',
  'missing_result',
  // Any other error escaping a step (runStopped.ts asRunStopped).
  'expression_error',
  'invalid_result',
  'step_error',
  // The run's budget ran out (runStopped.ts budgetExceeded, agentLoop.ts).
  'BudgetExceeded',
  // JSONL batch job items (batchJobIo.ts, batchJobLane.ts, batchJob.ts).
  'invalid_item',
  'invalid_json',
  'invalid_input',
  'line_too_long',
  'output_unavailable',
  'run_crashed',
  'lane_crashed',
  'not_run',
]);
export type RunErrorKind = z.infer<typeof RunErrorKind>;

/** Why a run or an agent stopped early: which step, a machine-readable kind, and a message for people. */
export const RunError = z.strictObject({
  stepId: z.string().optional(),
  /**
   * A RunErrorKind. Read as any string, so runs recorded by any build (and a child's error passed up
   * as it is) still parse; the app writes only RunErrorKind values (the `RunErrorOf` type below).
   */
  kind: z.string(),
  message: z.string(),
});
export type RunError = z.infer<typeof RunError>;
/** A RunError as the app writes it: its kind is one of RunErrorKind. */
export type RunErrorOf = Omit<RunError, 'kind'> & { readonly kind: RunErrorKind };

/**
 * How model calls are retried. Returned (classified) failures only: a thrown activity error is an
 * infrastructure fault, retried by the durable retry policy on the activity itself.
 */
export const ModelRetryOptions = z.strictObject({
  /** Calls per deployment before moving to the role's next fallback (default 4). */
  maxTries: z.int().min(1).max(10).optional(),
  /** First backoff when the provider sent no retry-after; doubles each try (default 1 s). */
  initialBackoffMs: z.int().positive().optional(),
  /** Cap on the computed backoff (default 60 s). */
  maxBackoffMs: z.int().positive().optional(),
  /** Cap on a provider's retry-after (default 5 min). */
  maxRetryAfterMs: z.int().positive().optional(),
});
export type ModelRetryOptions = z.infer<typeof ModelRetryOptions>;

export const AgentLoopOptions = z.strictObject({
  /** Turns per orchestration generation before `continueAsNew` (default 20). */
  turnsPerGeneration: z.int().min(1).max(1_000).optional(),
  /** Above this JSON size (characters) the transcript goes to blob storage (default 8192). */
  transcriptOffloadChars: z.int().min(256).optional(),
  /** Longest tool result text that enters the transcript (default 20000). */
  toolResultMaxChars: z.int().min(256).optional(),
  /** Compact older turns once a turn's input tokens pass this fraction of the context window (default 0.7). */
  compactAt: z.number().gt(0).lt(1).optional(),
  /** Turns (assistant turn + its tool results) kept verbatim when compacting (default 4). */
  compactKeepTurns: z.int().min(1).max(100).optional(),
});
export type AgentLoopOptions = z.infer<typeof AgentLoopOptions>;

/** Tuning for one run; every field has a default, and child runs and agents inherit it. */
export const RunOptions = z.strictObject({
  modelRetry: ModelRetryOptions.optional(),
  agent: AgentLoopOptions.optional(),
  /** Polling of provider batches (`batch: true` steps); the starter fills it from configuration. */
  modelBatch: ModelBatchOptions.optional(),
});
export type RunOptions = z.infer<typeof RunOptions>;

/** Orchestration input of `runWorkflow`: everything it needs, resolved outside the orchestrator. */
export const RunWorkflowInput = z.strictObject({
  definition: CarriedDefinition,
  input: z.unknown(),
  /** Definitions `workflow` steps may call (transitively), by name. */
  workflows: z.record(z.string(), CarriedDefinition).default({}),
  /** Specs of the tools the definitions' agent steps may offer, by tool name. */
  tools: z.record(z.string(), ToolDefinition).default({}),
  /** For a child run: what the parent may still spend (the child's own budget can only lower it). */
  inheritedBudget: RunBudget.optional(),
  /** The top-level run id, for artifacts and ledger rows of child runs. */
  rootRunId: z.string().optional(),
  options: RunOptions.optional(),
  /** A top-level run started with a callback URL: the result is POSTed there when the run ends. */
  callback: CompletionCallback.optional(),
  /** The run's trace context (src/telemetry/README.md); child runs inherit it. */
  trace: RunTrace.optional(),
  /**
   * SHA-256 of the start request (workflow, input as sent, callback URL), so a repeat of its idempotency
   * key can be told apart from the same key with another request. Read by the starters only.
   */
  requestHash: z.string().optional(),
});
export type RunWorkflowInput = z.infer<typeof RunWorkflowInput>;

export const RunOutcome = z.enum(['completed', 'budget_exceeded', 'failed']);
export type RunOutcome = z.infer<typeof RunOutcome>;

/** Where a top-level step stands in the run's timeline. */
export const StepStatus = z.enum(['running', 'completed', 'failed', 'skipped', 'waiting']);
export type StepStatus = z.infer<typeof StepStatus>;

/** Tokens as the operator timeline shows them (input excludes cache reads and writes, as in `TokenUsage`). */
export const StepTokens = z.strictObject({
  input: z.int().nonnegative(),
  output: z.int().nonnegative(),
  cacheWrite: z.int().nonnegative(),
  cacheRead: z.int().nonnegative(),
});
export type StepTokens = z.infer<typeof StepTokens>;

/**
 * One top-level step as the run recorded it, times from the orchestration clock. Travels in custom status
 * and output, so it stays small: no outputs, errors cut short. Retries are counted by the operator API.
 */
export const StepRecord = z.strictObject({
  stepId: z.string(),
  kind: z.string(),
  status: StepStatus,
  role: z.string().optional(),
  deployments: z.array(z.string()).optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  tokens: StepTokens,
  costUsd: z.number().nonnegative(),
  toolCalls: z.int().nonnegative(),
  error: z.string().optional(),
});
export type StepRecord = z.infer<typeof StepRecord>;

/** Orchestration output of `runWorkflow`. */
export const RunWorkflowOutput = z.strictObject({
  outcome: RunOutcome,
  workflow: z.string(),
  version: z.union([z.string(), z.number()]),
  output: z.unknown(),
  /** Set when the outcome is not `completed`: which step stopped the run and why. */
  error: RunError.optional(),
  ledger: Ledger,
  /** How the completion callback went, for a run started with one. */
  callback: CallbackDelivery.optional(),
  /** The top-level steps that started or were skipped, in order. */
  timeline: z.array(StepRecord).optional(),
  /** Files the run's tools produced (charts, CSVs), in blob storage. */
  artifacts: z.array(ArtifactRef).optional(),
});
export type RunWorkflowOutput = z.infer<typeof RunWorkflowOutput>;

/**
 * The part of a `runWorkflow` result a batch lane keeps. A lane re-reads every finished item's result on
 * each replay, so it checks only these fields (other keys are dropped unchecked).
 */
export const RunResultSummary = z.object({
  outcome: RunOutcome,
  error: RunError.optional(),
  ledger: z.object({ totals: z.object({ costUsd: z.number().nonnegative() }) }),
});
export type RunResultSummary = z.infer<typeof RunResultSummary>;

/**
 * What a top-level run that did not complete its work leaves in its last custom status before it fails
 * (runtime status `Failed` carries only a message): the outcome, the error, the ledger and the artifacts,
 * so `GET /api/runs/{id}` and the operator views still show them. Rows or artifacts left out to keep the
 * status within 16 KB are counted.
 */
export const RunFinal = z.strictObject({
  outcome: RunOutcome,
  error: RunError,
  ledger: Ledger,
  artifacts: z.array(ArtifactRef),
  ledgerRowsOmitted: z.int().positive().optional(),
  artifactsOmitted: z.int().positive().optional(),
});
export type RunFinal = z.infer<typeof RunFinal>;

/** Custom status while a run is in flight: what operators and `GET /api/runs/{id}` show as progress. */
export const RunProgress = z.strictObject({
  workflow: z.string(),
  version: z.union([z.string(), z.number()]),
  step: z.string().optional(),
  stepIndex: z.number().int().nonnegative(),
  stepCount: z.number().int().positive(),
  map: z.strictObject({ stepId: z.string(), done: z.number().int(), total: z.number().int() }).optional(),
  waitingFor: z
    .strictObject({ event: z.string(), until: z.string(), message: z.string().optional() })
    .optional(),
  /** A `batch: true` step waiting for its provider batch. */
  batch: ModelBatchProgress.optional(),
  usage: TokenUsage,
  costUsd: z.number().nonnegative(),
  /** The newest records; the oldest are left out when the status would pass 16 KB (orchestrators/customStatus.ts). */
  timeline: z.array(StepRecord).optional(),
  /** How many of the oldest timeline records were left out to keep the status within 16 KB. */
  timelineOmitted: z.int().positive().optional(),
  /** Set once, by a top-level run that stops without completing, just before it fails. */
  final: RunFinal.optional(),
});
export type RunProgress = z.infer<typeof RunProgress>;

/**
 * What an agent loop carries into its next generation (`continueAsNew`): the transcript as its snapshot
 * in Blob storage and the few messages added since, never the whole transcript (claim check).
 */
export const AgentLoopState = z
  .strictObject({
    generation: z.int().nonnegative(),
    turn: z.int().nonnegative(),
    toolCalls: z.int().nonnegative(),
    /**
     * The messages after the snapshot (all of them while there is none). Instances older than the
     * transcript claim check carry the whole transcript here and a LegacyTranscriptSnapshot
     * (src/orchestrators/transcriptLegacy.ts).
     */
    messages: z.array(ModelMessage),
    snapshot: z.union([TranscriptSnapshot, LegacyTranscriptSnapshot]).optional(),
    lastText: z.string(),
    ledger: Ledger,
    /** Files the tools produced (charts, CSVs), in blob storage. */
    artifacts: z.array(ArtifactRef).default([]),
  })
  .refine((state) => state.messages.length > 0 || state.snapshot !== undefined, {
    error: 'an agent loop state needs a transcript: messages, a snapshot, or both',
  });
export type AgentLoopState = z.infer<typeof AgentLoopState>;

/** Orchestration input of `agentLoop`, one agent step (or one map item of an agent step). */
export const AgentLoopInput = z.strictObject({
  /** The top-level run: callModel's `runId` and the artifact folder. */
  runId: z.string().min(1),
  /** Where this agent's cost is booked in the ledger. */
  stepId: z.string().min(1),
  role: RoleName,
  /** The workflow's own deployment for the role, when its `roles` names one. */
  route: ModelRouteSpec.optional(),
  /**
   * Who summarizes older turns when the loop compacts: the `worker` role as the workflow's `roles`
   * resolves it. Absent = the configured `worker` (also for histories from before this field).
   */
  compaction: z.strictObject({ role: RoleName, route: ModelRouteSpec.optional() }).optional(),
  system: z.string().optional(),
  prompt: z.string().min(1),
  /** Images and PDFs sent with the prompt (the step's `attach`), as blob references. */
  attachments: z.array(FileBlock).optional(),
  /** The allow-list: the only tools offered and the only ones ever called. */
  tools: z.array(ToolDefinition),
  maxTurns: z.int().positive(),
  outputSchema: JsonSchema.optional(),
  maxTokens: z.int().positive().optional(),
  /** Claude thinking and effort for every turn (CallModelInput). */
  thinking: ThinkingSetting.optional(),
  effort: EffortSetting.optional(),
  reasoningEffort: ReasoningEffort.optional(),
  /** What the run may still spend when the agent starts. */
  budget: RunBudget.optional(),
  options: RunOptions.optional(),
  /** The step's tool limits and read-only files, passed to every tool call. */
  toolLimits: ToolLimits.optional(),
  inputFiles: z.array(ArtifactRef).optional(),
  /** Set by the loop itself when it continues as new. */
  state: AgentLoopState.optional(),
  /** The run's trace context, passed to every model and tool call. */
  trace: RunTrace.optional(),
});
export type AgentLoopInput = z.infer<typeof AgentLoopInput>;

export const AgentOutcome = z.enum(['completed', 'max_turns', 'budget_exceeded', 'failed']);
export type AgentOutcome = z.infer<typeof AgentOutcome>;

/** Orchestration output of `agentLoop`. */
export const AgentLoopOutput = z.strictObject({
  outcome: AgentOutcome,
  /** `structured` when the step has an outputSchema, else the final text; null unless completed. */
  output: z.unknown(),
  /** The last assistant text, whatever the outcome. */
  text: z.string(),
  turns: z.int().nonnegative(),
  toolCalls: z.int().nonnegative(),
  error: RunError.optional(),
  ledger: Ledger,
  artifacts: z.array(ArtifactRef).default([]),
});
export type AgentLoopOutput = z.infer<typeof AgentLoopOutput>;

/** Custom status of an agent loop while it runs. */
export const AgentProgress = z.strictObject({
  stepId: z.string(),
  generation: z.int().nonnegative(),
  turn: z.int().nonnegative(),
  maxTurns: z.int().positive(),
  toolCalls: z.int().nonnegative(),
  usage: TokenUsage,
  costUsd: z.number().nonnegative(),
});
export type AgentProgress = z.infer<typeof AgentProgress>;
