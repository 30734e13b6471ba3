import { z } from 'zod';
import { ProviderKind, TokenUsage, type JsonSchema } from './modelTypes.js';
import { RunTrace } from './traceTypes.js';

/**
 * The contract between the agent loop and tool activities: one tool call is one activity
 * invocation, so a retry never repeats a finished side effect and history shows every call.
 */
const positiveWhole = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be a whole number' })
  .positive({ error: 'must be greater than 0' });
const domainList = z.array(z.string().min(1, { error: 'must not be empty' }));

export const ToolLimits = z.strictObject({
  /** Per-step overrides; each is clamped to the global maximum in configuration. */
  timeoutMs: positiveWhole.optional(),
  memoryMb: positiveWhole.optional(),
  maxOutputBytes: positiveWhole.optional(),
  maxResults: positiveWhole.optional(),
  allowDomains: domainList.optional(),
  blockDomains: domainList.optional(),
});
export type ToolLimits = z.infer<typeof ToolLimits>;

/** A file or blob made available to, or produced by, a tool. */
export const ArtifactRef = z.strictObject({
  name: z.string().min(1),
  blobRef: z.string().min(1),
  contentType: z.string().min(1),
  bytes: z.number().int().nonnegative(),
});
export type ArtifactRef = z.infer<typeof ArtifactRef>;

export const ToolCallInput = z.strictObject({
  runId: z.string().min(1),
  stepId: z.string().min(1),
  /** The model's id for this call, echoed in the result so the loop can pair them. */
  toolUseId: z.string().min(1),
  name: z.string().min(1),
  /** The model-provided arguments, validated by the tool against its own schema. */
  arguments: z.record(z.string(), z.unknown()),
  limits: ToolLimits.optional(),
  /** Read-only inputs (e.g. the workflow's data) the tool may expose to the code it runs. */
  inputFiles: z.array(ArtifactRef).optional(),
  /** The run's trace context: the call's span joins the run's trace (src/telemetry/README.md). */
  trace: RunTrace.optional(),
});
export type ToolCallInput = z.infer<typeof ToolCallInput>;

export const ToolFailureKind = z.enum([
  'invalid_arguments',
  'timeout',
  'out_of_memory',
  'syntax_error',
  'runtime_error',
  'output_too_large',
  'sandbox_unavailable',
  'blocked_url',
  'not_configured',
  'rate_limited',
  'upstream_error',
]);
export type ToolFailureKind = z.infer<typeof ToolFailureKind>;

/**
 * What goes back to the model. Failures the model can react to (bad code, a blocked URL) are
 * results with `isError: true`, not thrown errors; only infrastructure faults are retryable.
 */
/**
 * A model call a tool made on the run's behalf (the Claude web-search side call): what it used and cost,
 * so the agent loop books it in the run's ledger and budgets count it.
 */
export const ToolSpend = z.strictObject({
  provider: ProviderKind,
  deployment: z.string().min(1),
  usage: TokenUsage,
  /** Server-side web searches billed per search (Claude: $10 per 1,000), included in `costUsd`. */
  webSearches: z.int().nonnegative(),
  costUsd: z.number().nonnegative(),
  /** False when the deployment has no price: `costUsd` then holds only the per-search fee. */
  priced: z.boolean(),
});
export type ToolSpend = z.infer<typeof ToolSpend>;

export const ToolCallResult = z.strictObject({
  toolUseId: z.string().min(1),
  name: z.string().min(1),
  isError: z.boolean(),
  /** Text for the model, size-capped and marked untrusted where it comes from outside. */
  content: z.string(),
  errorKind: ToolFailureKind.optional(),
  retryable: z.boolean().default(false),
  retryAfterMs: z.number().int().nonnegative().optional(),
  truncated: z.boolean().default(false),
  artifacts: z.array(ArtifactRef).default([]),
  /** Machine-readable result (e.g. normalized search results, the code's JSON return value). */
  data: z.unknown().optional(),
  durationMs: z.number().nonnegative(),
  /** Model calls the tool made and paid for, success or not (see ToolSpend). */
  spend: z.array(ToolSpend).optional(),
});
export type ToolCallResult = z.infer<typeof ToolCallResult>;

/** How a tool describes itself to the model (becomes a ToolDefinition) and to the registry. */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: JsonSchema;
}
