/**
 * The shape of a workflow definition (`workflows/<name>.yaml`). The parsed definition is plain JSON
 * and travels to the orchestrator as its input; expressions stay as source text and are compiled
 * there with `compileTemplate` / `compileExpression` (cached per text).
 *
 * Structure only: references between steps, known tools and roles, expression syntax and JSON
 * Schemas are checked by `checkDefinition`. No I/O here: orchestrators import these types.
 */
import { z } from 'zod';
import { parseIsoDuration } from '../shared/duration.js';
import { EffortSetting, ReasoningEffort, ThinkingSetting } from '../shared/modelTypes.js';
import { ToolLimits } from '../shared/toolTypes.js';

export const STEP_ID_PATTERN = /^[a-z][a-zA-Z0-9_]*$/;
export const WORKFLOW_NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** Same rule as the model layer's RoleName: roles map to MODEL_ROLE_<ROLE> settings. */
const ROLE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
const FILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const VERSION_PATTERN = /^\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?$/;

export const DEFAULT_KNOWN_ROLES = ['planner', 'worker', 'writer'] as const;
export const DEFAULT_KNOWN_TOOLS = ['web_search', 'fetch_url', 'run_code'] as const;
export const DEFAULT_MAX_TURNS = 10;
export const DEFAULT_MAP_CONCURRENCY = 4;
export const DEFAULT_ITEM_VARIABLE = 'item';

/** Words CEL reserves: as step ids they could not be read back as `steps.<id>`. */
const CEL_RESERVED_WORDS = new Set([
  'as',
  'break',
  'const',
  'continue',
  'else',
  'false',
  'for',
  'function',
  'if',
  'import',
  'in',
  'let',
  'loop',
  'namespace',
  'null',
  'package',
  'return',
  'true',
  'var',
  'void',
  'while',
]);

const StepId = z
  .string()
  .regex(STEP_ID_PATTERN, { error: 'must start with a lowercase letter and use only letters, digits and _' })
  .refine((id) => !CEL_RESERVED_WORDS.has(id), {
    error: 'is a reserved word in expressions; pick another name',
  });
const WorkflowName = z
  .string()
  .regex(WORKFLOW_NAME_PATTERN, { error: 'must be kebab-case, e.g. research-report' });
const RoleName = z
  .string()
  .regex(ROLE_NAME_PATTERN, { error: 'must be a role name such as planner (lowercase letters, digits, _)' });
/** Text with `{{ expr }}` placeholders. */
const Template = z.string();
/** One CEL expression, bare or wrapped in `{{ }}`. */
const Expression = z.string().min(1, { error: 'must not be empty' });
/** Any JSON Schema object; checked against the 2020-12 meta-schema by `checkDefinition`. */
const JsonSchema = z.record(z.string(), z.json());
const positiveInt = (what: string) =>
  z.int({ error: `${what} must be a whole number` }).min(1, { error: `${what} must be at least 1` });

const Duration = z.string().refine((text) => (parseIsoDuration(text) ?? 0) > 0, {
  error: 'must be a positive ISO-8601 duration in weeks, days, hours, minutes or seconds, e.g. PT30M or P1D',
});

const stepBase = {
  id: StepId,
  /** Runs the step only when true; a skipped step is absent from `steps` in later expressions. */
  when: Expression.optional(),
};

/** Claude thinking and effort for a model step (ignored by GPT deployments); see src/models/README.md. */
const claudeThinking = {
  /** `adaptive`: Claude decides when and how much to think; `off`: no thinking. Omitted: the model's default. */
  thinking: ThinkingSetting.optional(),
  /** Claude's `output_config.effort`: `low` … `max`. */
  effort: EffortSetting.optional(),
};

/**
 * Images and PDFs sent with the prompt: expressions each yielding a file the starter stored (an input
 * declared with `"x-file"`), an artifact `{ artifact: "<container>/<path>" }`, a run_code artifact
 * (`{ blobRef, contentType }`), or a list of them. See src/files/README.md.
 */
const Attach = z.array(Expression).min(1, { error: 'attach needs at least one expression' }).max(20, {
  error: 'attach takes at most 20 expressions',
});

export const LlmStep = z.strictObject({
  ...stepBase,
  kind: z.literal('llm'),
  role: RoleName,
  system: Template.optional(),
  prompt: Template,
  attach: Attach.optional(),
  /** JSON Schema (root type object) for structured output; the step output is the parsed object. */
  outputSchema: JsonSchema.optional(),
  maxTokens: positiveInt('maxTokens').optional(),
  ...claudeThinking,
  /** OpenAI reasoning effort for this step's calls (none … xhigh); Claude roles ignore it. */
  reasoningEffort: ReasoningEffort.optional(),
  /**
   * Send the call through the provider's batch API at half price, answered within hours rather than
   * seconds (default false). As a map's item step, all enabled items go out as one batch.
   */
  batch: z.boolean({ error: 'batch must be true or false' }).optional(),
});
export type LlmStep = z.infer<typeof LlmStep>;

export const AgentStep = z.strictObject({
  ...stepBase,
  kind: z.literal('agent'),
  role: RoleName,
  system: Template.optional(),
  prompt: Template,
  attach: Attach.optional(),
  /** Allow-list: the only tools the model is offered in this step. */
  tools: z.array(z.string()),
  maxTurns: positiveInt('maxTurns').default(DEFAULT_MAX_TURNS),
  outputSchema: JsonSchema.optional(),
  ...claudeThinking,
  /** OpenAI reasoning effort for every turn (none … xhigh); Claude roles ignore it. */
  reasoningEffort: ReasoningEffort.optional(),
  /** Read-only files the tools see (run_code: `files[name]` in JS, `in/<name>` in Python): name → template. */
  files: z
    .record(
      z.string().regex(FILE_NAME_PATTERN, { error: 'file names are 1-100 letters, digits, ".", "_" or "-"' }),
      Template,
    )
    .optional(),
  /** Tighter limits for this step's tool calls; configuration's maxima still apply. */
  toolLimits: ToolLimits.optional(),
});
export type AgentStep = z.infer<typeof AgentStep>;

export const WorkflowCallStep = z.strictObject({
  ...stepBase,
  kind: z.literal('workflow'),
  workflow: WorkflowName,
  /** The child's input; every string in it is a template. */
  input: z.record(z.string(), z.json()).default({}),
});
export type WorkflowCallStep = z.infer<typeof WorkflowCallStep>;

/** Steps a `map` runs per item. */
export const MapItemStep = z.discriminatedUnion('kind', [LlmStep, AgentStep, WorkflowCallStep]);
export type MapItemStep = z.infer<typeof MapItemStep>;

export const MapStep = z.strictObject({
  ...stepBase,
  kind: z.literal('map'),
  /** Expression yielding an array. */
  over: Expression,
  /** Name of the item variable in the nested step; `index` is always available. */
  as: StepId.default(DEFAULT_ITEM_VARIABLE),
  /** How many items run at once: a number, or an expression evaluated when the step starts. */
  concurrency: z.union([positiveInt('concurrency'), Expression]).default(DEFAULT_MAP_CONCURRENCY),
  step: MapItemStep,
});
export type MapStep = z.infer<typeof MapStep>;

/** Steps a `parallel` branch runs. */
export const BranchStep = z.discriminatedUnion('kind', [LlmStep, AgentStep, WorkflowCallStep, MapStep]);
export type BranchStep = z.infer<typeof BranchStep>;

export const ParallelStep = z.strictObject({
  ...stepBase,
  kind: z.literal('parallel'),
  /** Output is an object keyed by branch name: `steps.<id>.output.<branch>`. */
  branches: z
    .record(StepId, BranchStep)
    .refine((branches) => Object.keys(branches).length > 0, { error: 'needs at least one branch' }),
});
export type ParallelStep = z.infer<typeof ParallelStep>;

export const ApprovalTimeoutAction = z.union([
  z.literal('fail'),
  z.literal('continue'),
  z.strictObject({ default: z.json() }),
]);
export type ApprovalTimeoutAction = z.infer<typeof ApprovalTimeoutAction>;

export const ApprovalStep = z.strictObject({
  ...stepBase,
  kind: z.literal('approval'),
  /** External event name; defaults to the step id. */
  event: StepId.optional(),
  timeout: Duration,
  onTimeout: ApprovalTimeoutAction.default('fail'),
  message: Template.optional(),
});
export type ApprovalStep = z.infer<typeof ApprovalStep>;

export const Step = z.discriminatedUnion('kind', [
  LlmStep,
  AgentStep,
  MapStep,
  ParallelStep,
  ApprovalStep,
  WorkflowCallStep,
]);
export type Step = z.infer<typeof Step>;
export type StepKind = Step['kind'];

export const STEP_KINDS: readonly StepKind[] = ['llm', 'agent', 'map', 'parallel', 'approval', 'workflow'];

export const Budget = z.strictObject({
  maxCostUsd: z.number().positive({ error: 'maxCostUsd must be greater than 0' }).optional(),
  maxTokens: positiveInt('maxTokens').optional(),
});
export type Budget = z.infer<typeof Budget>;

export const WorkflowDefinition = z.strictObject({
  name: WorkflowName,
  version: z.union([
    z.string().regex(VERSION_PATTERN, { error: 'must look like 1, 1.2 or 1.2.3' }),
    z.int().nonnegative(),
  ]),
  description: z.string().min(1, { error: 'must not be empty' }),
  /** JSON Schema (draft 2020-12, root type object) for the run input. */
  input: JsonSchema,
  /** A step id (its output) or an expression over `input` and `steps`. */
  output: Expression,
  steps: z.array(Step).min(1, { error: 'needs at least one step' }),
  budget: Budget.optional(),
  /** Role → another role, or `provider:deployment`, for this workflow only. */
  roles: z.record(RoleName, z.string()).optional(),
});
export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;

/** Keys each object may hold, for "unknown key" messages. */
export const ALLOWED_KEYS = {
  definition: Object.keys(WorkflowDefinition.shape),
  budget: Object.keys(Budget.shape),
  onTimeout: ['default'],
  step: {
    llm: Object.keys(LlmStep.shape),
    agent: Object.keys(AgentStep.shape),
    map: Object.keys(MapStep.shape),
    parallel: Object.keys(ParallelStep.shape),
    approval: Object.keys(ApprovalStep.shape),
    workflow: Object.keys(WorkflowCallStep.shape),
  } satisfies Record<StepKind, string[]>,
};

/** The approval event name, defaulting to the step id. */
export function approvalEventName(step: ApprovalStep): string {
  return step.event ?? step.id;
}

/** The run's result as one expression: `output: report` means `steps.report.output`. */
export function outputExpressionOf(definition: WorkflowDefinition): string {
  const output = definition.output.trim();
  return definition.steps.some((step) => step.id === output) ? `steps.${output}.output` : definition.output;
}
