/**
 * Attribute names and values the app's spans use.
 *
 * The `gen_ai.*` names follow the OpenTelemetry GenAI semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/). They are written out here rather
 * than imported: in @opentelemetry/semantic-conventions 1.45 they live only in the `incubating` entry
 * point, are marked deprecated there ("Moved to the OpenTelemetry GenAI semantic conventions
 * repository"), and that package's README asks instrumentations not to import `incubating` at run time
 * but to keep their own copy of the names. test/unit/telemetry/attributes.test.ts pins each name
 * against the package, so a rename shows up there.
 */

export const GenAi = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  responseModel: 'gen_ai.response.model',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  usageCacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  toolName: 'gen_ai.tool.name',
  toolType: 'gen_ai.tool.type',
  toolCallId: 'gen_ai.tool.call.id',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
  workflowName: 'gen_ai.workflow.name',
} as const;

/** `gen_ai.operation.name` values (GEN_AI_OPERATION_NAME_VALUE_* in the semantic conventions). */
export const GenAiOperation = {
  chat: 'chat',
  executeTool: 'execute_tool',
  invokeWorkflow: 'invoke_workflow',
} as const;

/** `error.type`, a stable attribute (ATTR_ERROR_TYPE in @opentelemetry/semantic-conventions). */
export const ERROR_TYPE = 'error.type';

/**
 * The app's own attributes, on every span it makes (src/telemetry/README.md): which run, workflow and
 * step a span belongs to, so a backend can filter one run's spans without reading the trace tree.
 */
export const DurableAgents = {
  /** The top-level run's instance id (the id `GET /api/runs/{id}` takes). */
  instanceId: 'durable_agents.instance_id',
  /** The top-level run's workflow name. */
  workflow: 'durable_agents.workflow',
  /** The step label: `plan`, a map item `research:3`, a branch `checks.lint`. */
  stepId: 'durable_agents.step_id',
  /** The app's provider kind (`foundry`, `anthropic`, `azure-openai`, `openai`). */
  provider: 'durable_agents.provider',
  /** The role the call was routed by (`planner`, `worker`, …). */
  role: 'durable_agents.role',
  /** Which entry in the role's fallback chain served the call (0 = the role's own deployment). */
  attempt: 'durable_agents.attempt',
  /** The call's cost in US dollars from the price table (0 when unpriced). */
  costUsd: 'durable_agents.cost_usd',
  /** Whether the offline model answered. */
  offline: 'durable_agents.offline',
  /** What started the run: `http` or `queue`. */
  trigger: 'durable_agents.trigger',
  /** On a start span: the run already existed (an idempotent repeat), nothing new started. */
  existing: 'durable_agents.existing',
} as const;
