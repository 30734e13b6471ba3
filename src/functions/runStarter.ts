/**
 * The one path every entry point starts runs through (HTTP starter, queue messages, batches): look the
 * workflow up, validate the input against its schema, vet the callback URL, build `RunWorkflowInput`, and
 * start `runWorkflow` under an instance id derived from the idempotency key when there is one.
 */
import { createHash } from 'node:crypto';
import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import { declaresFiles, fileSlots } from '../definitions/fileInputs.js';
import { validateWorkflowInput, type InputProblem } from '../definitions/inputValidation.js';
import type { FileIntake } from '../files/intake.js';
import type { FileLimits } from '../files/limits.js';
import type { Step, WorkflowDefinition } from '../definitions/schema.js';
import type { RunTemplate } from '../shared/batchJobTypes.js';
import type { RoleUse } from '../models/unpriced.js';
import type { ModelBatchOptions } from '../shared/providerBatchTypes.js';
import { ModelRouteSpec, splitRoleTarget, type ToolDefinition } from '../shared/modelTypes.js';
import { Names } from '../shared/names.js';
import type { RunWorkflowInput } from '../shared/runTypes.js';
import type { WorkflowCatalog } from '../shared/workflows.js';
import { traceRunStart } from '../telemetry/spans.js';
import { checkUrl } from '../net/ssrfGuard.js';
import { PUBLIC_ONLY, type UrlPolicy } from '../net/urlPolicy.js';
import { isNotFound } from './getRun.js';

export interface RunStarterDeps {
  readonly workflows: WorkflowCatalog;
  /** Specs of the registered tools, by name: what agent steps may offer the model. */
  readonly tools: () => Readonly<Record<string, ToolDefinition>>;
  /** Whether completion callbacks can be signed (`CALLBACK_SIGNING_SECRET` is set). */
  readonly callbacksEnabled: () => boolean;
  /** Checks `callbackUrl` at start (default: public addresses only; the caller's URL, never exempted). */
  readonly urlPolicy?: UrlPolicy;
  /** Provider-batch polling settings, added to the runs whose workflows have `batch: true` steps. */
  readonly modelBatch?: ModelBatchOptions;
  /**
   * The unpriced deployments these role uses can reach, described, with the setting to fix; undefined
   * when all are priced. A run with a budget that could reach one is refused: its calls would cost $0.
   */
  readonly unpricedProblem?: (uses: readonly RoleUse[]) => string | undefined;
  /**
   * Why some of these tools (every tool the workflow and the ones it calls use) cannot be offered now,
   * naming their source; undefined when all can. Runs before the tool specs are read, so a source that
   * discovers its tools (MCP servers) can finish listing them first.
   */
  readonly toolProblem?: (toolNames: readonly string[]) => Promise<string | undefined>;
  /**
   * Checks and stores the files an input declares (`"x-file"`, src/files/README.md) before the run starts.
   * Without it, an input with a file reference is refused.
   */
  readonly files?: {
    readonly intake: FileIntake;
    /** The limits of the models these role uses can reach (the strictest family). */
    readonly limits: (uses: readonly RoleUse[]) => FileLimits;
  };
}

/** Every role the model steps of these definitions call, with each workflow's own `roles` override applied. */
export function rolesUsedBy(definitions: readonly WorkflowDefinition[]): RoleUse[] {
  const uses = new Map<string, RoleUse>();
  for (const definition of definitions) {
    const add = (role: string): void => {
      const target = definition.roles?.[role];
      const parsed = target === undefined ? undefined : splitRoleTarget(target);
      const route = parsed && !('role' in parsed) ? ModelRouteSpec.safeParse(parsed).data : undefined;
      const use: RoleUse =
        parsed && 'role' in parsed ? { role: parsed.role } : { role, ...(route ? { route } : {}) };
      uses.set(JSON.stringify(use), use);
    };
    const visit = (step: Step): void => {
      if (step.kind === 'llm' || step.kind === 'agent') add(step.role);
      else if (step.kind === 'map') visit(step.step);
      else if (step.kind === 'parallel') Object.values(step.branches).forEach(visit);
    };
    definition.steps.forEach(visit);
  }
  return [...uses.values()];
}

/** Whether any of these definitions has a `batch: true` llm step, nested ones included. */
export function usesModelBatches(definitions: readonly WorkflowDefinition[]): boolean {
  const visit = (step: Step): boolean => {
    switch (step.kind) {
      case 'llm':
        return step.batch === true;
      case 'map':
        return visit(step.step);
      case 'parallel':
        return Object.values(step.branches).some(visit);
      default:
        return false;
    }
  };
  return definitions.some((definition) => definition.steps.some(visit));
}

export interface StartRequest {
  readonly workflow: string;
  readonly input: unknown;
  readonly callbackUrl?: string | undefined;
}

export type PreparedRun =
  | { readonly kind: 'ready'; readonly definition: WorkflowDefinition; readonly input: RunWorkflowInput }
  | { readonly kind: 'unknown_workflow'; readonly message: string }
  | { readonly kind: 'invalid_input'; readonly problems: readonly InputProblem[] }
  | { readonly kind: 'invalid_callback'; readonly message: string }
  /** The workflow has a budget, and a role it uses can reach a deployment without a price. */
  | { readonly kind: 'unpriced_budget'; readonly message: string }
  /** A tool it uses is not available now (its MCP server is unreachable or does not list it). */
  | { readonly kind: 'tools_unavailable'; readonly message: string };

export interface StartedRun {
  readonly instanceId: string;
  /** Set when a run with this id already existed (an idempotent repeat): its status now. */
  readonly existing?: DurableOrchestrationStatus;
  /**
   * Set with `existing` when that run was started by a different request (its `requestHash` differs):
   * the key is being reused for something else, which callers refuse rather than replay.
   */
  readonly differentRequest?: true;
}

/**
 * The hash stored with an idempotent run: SHA-256 of the request's JSON with object keys sorted, so the
 * same parameters match however they were spelled and any other parameters do not. Stripe's rule: "compares
 * incoming parameters to those of the original request and errors if they're not the same"
 * (https://docs.stripe.com/api/idempotent_requests). Inputs were depth-checked at the entry point.
 */
export function requestHash(request: StartRequest): string {
  const sorted = (_key: string, value: unknown): unknown =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, (value as Record<string, unknown>)[k]]),
        )
      : value;
  const canonical = JSON.stringify(
    { workflow: request.workflow, input: request.input ?? null, callbackUrl: request.callbackUrl ?? null },
    sorted,
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/** The name of every tool the agent steps of these definitions may offer, sorted. */
export function toolNamesUsedBy(definitions: readonly WorkflowDefinition[]): string[] {
  const used = new Set<string>();
  const visit = (step: Step): void => {
    if (step.kind === 'agent') step.tools.forEach((tool) => used.add(tool));
    else if (step.kind === 'map') visit(step.step);
    else if (step.kind === 'parallel') Object.values(step.branches).forEach(visit);
  };
  definitions.forEach((definition) => definition.steps.forEach(visit));
  return [...used].sort();
}

/** Every tool the agent steps of these definitions may offer, so runs carry only the specs they can use. */
export function toolsUsedBy(
  definitions: readonly WorkflowDefinition[],
  tools: Readonly<Record<string, ToolDefinition>>,
): Record<string, ToolDefinition> {
  return Object.fromEntries(
    toolNamesUsedBy(definitions).flatMap((name) => (tools[name] === undefined ? [] : [[name, tools[name]]])),
  );
}

export function unknownWorkflowMessage(name: string, workflows: WorkflowCatalog): string {
  return `No workflow named "${name}". Known: ${workflows.names().join(', ')}.`;
}

/**
 * A stable run id for an idempotency key: the same scope (caller) and key always give the same id, so
 * repeats and concurrent duplicates meet at one instance. Hashed, so keys never show up in ids or URLs.
 */
export function idempotentInstanceId(scope: string, key: string, prefix = 'run'): string {
  return `${prefix}-${createHash('sha256').update(`${scope}\n${key}`).digest('hex').slice(0, 32)}`;
}

/** DurableClient 3.x reports a start conflict only as an Error naming the status code. */
function isConflict(error: unknown): boolean {
  return error instanceof Error && /status code: 409\b|already exists/i.test(error.message);
}

export interface RunStarter {
  /** Everything but the input of a run of `workflow`, or undefined for an unknown workflow. */
  template(workflow: string): RunTemplate | undefined;
  /**
   * Why runs of `workflow` are refused before anything starts: it (or a workflow it calls) has a budget
   * and can reach an unpriced deployment. Undefined when runs may start (or the workflow is unknown).
   */
  budgetProblem(workflow: string): string | undefined;
  /** Validates a start request and builds the orchestration input; starts nothing. */
  prepare(request: StartRequest): Promise<PreparedRun>;
  /** A reason the callback URL is refused, or undefined when it may be used. */
  checkCallbackUrl(url: string): Promise<string | undefined>;
  /**
   * Starts the prepared run. With `instanceId`, an existing run with that id (running or finished) is
   * returned instead of starting another, also when a concurrent duplicate wins the race.
   */
  start(client: DurableClient, input: RunWorkflowInput, instanceId?: string): Promise<StartedRun>;
  /** Starts any orchestrator the same idempotent way (batches use it for `runBatch`). */
  startOrchestration(
    client: DurableClient,
    orchestrator: string,
    input: unknown,
    instanceId?: string,
  ): Promise<StartedRun>;
}

export function createRunStarter(deps: RunStarterDeps): RunStarter {
  const policy = deps.urlPolicy ?? PUBLIC_ONLY;

  function template(workflow: string): RunTemplate | undefined {
    const definition = deps.workflows.get(workflow);
    if (!definition) return undefined;
    const workflows = deps.workflows.referencedBy(workflow);
    const definitions = [definition, ...Object.values(workflows)];
    return {
      definition,
      workflows,
      tools: toolsUsedBy(definitions, deps.tools()),
      // Orchestrators never read settings: runs with batch steps get the polling settings in their input.
      ...(deps.modelBatch && usesModelBatches(definitions)
        ? { options: { modelBatch: deps.modelBatch } }
        : {}),
    };
  }

  function budgetProblem(workflow: string): string | undefined {
    const definition = deps.workflows.get(workflow);
    if (!definition || !deps.unpricedProblem) return undefined;
    const definitions = [definition, ...Object.values(deps.workflows.referencedBy(workflow))];
    const budgeted = definitions.filter((d) => d.budget !== undefined).map((d) => d.name);
    if (budgeted.length === 0) return undefined;
    const problem = deps.unpricedProblem(rolesUsedBy(definitions));
    if (problem === undefined) return undefined;
    const whose =
      budgeted[0] === workflow
        ? `"${workflow}" has a budget`
        : `"${budgeted.join('", "')}" (called) has a budget`;
    return `Runs of "${workflow}" are refused: ${whose}, but ${problem}`;
  }

  async function checkCallbackUrl(url: string): Promise<string | undefined> {
    if (!deps.callbacksEnabled()) {
      return 'completion callbacks are not configured on this app (CALLBACK_SIGNING_SECRET is not set)';
    }
    const check = await checkUrl(url, policy, { origin: 'caller' });
    // DNS can fail for a moment; delivery checks again and retries, so only a definite "no" refuses here.
    if (check.ok || check.code === 'unresolvable') return undefined;
    return `callbackUrl is refused: ${check.reason}`;
  }

  async function startOrchestration(
    client: DurableClient,
    orchestrator: string,
    input: unknown,
    instanceId?: string,
  ): Promise<StartedRun> {
    if (instanceId === undefined) return { instanceId: await client.startNew(orchestrator, { input }) };
    const existing = await statusOf(client, instanceId);
    if (existing) return { instanceId, existing };
    try {
      await client.startNew(orchestrator, { input, instanceId });
      return { instanceId };
    } catch (error) {
      if (!isConflict(error)) throw error;
      const winner = await statusOf(client, instanceId);
      if (!winner) throw error;
      return { instanceId, existing: winner };
    }
  }

  /** Replaces each declared file in `input` by its checked, stored form; the problems, if any. */
  async function intakeFiles(definition: WorkflowDefinition, input: unknown): Promise<InputProblem[]> {
    if (!declaresFiles(definition.input)) return [];
    const slots = fileSlots(definition.input, input);
    if (slots.length === 0) return [];
    const files = deps.files;
    if (!files) {
      return slots.map((slot) => ({
        path: slot.pointer,
        message: 'files cannot be accepted: this app has no blob storage for them',
      }));
    }
    const definitions = [definition, ...Object.values(deps.workflows.referencedBy(definition.name))];
    const limits = files.limits(rolesUsedBy(definitions));
    const results = await Promise.all(
      slots.map((slot) =>
        files.intake.accept(
          slot.value,
          limits,
          slot.mediaTypes ? { mediaTypes: slot.mediaTypes } : undefined,
        ),
      ),
    );
    const problems: InputProblem[] = [];
    results.forEach((result, index) => {
      const slot = slots[index];
      if (!slot) return;
      if (result.ok) slot.replace(result.file);
      else problems.push({ path: slot.pointer, message: result.problem });
    });
    return problems;
  }

  return {
    template,
    budgetProblem,
    checkCallbackUrl,
    async prepare(request) {
      const called = deps.workflows.get(request.workflow);
      if (called && deps.toolProblem) {
        const definitions = [called, ...Object.values(deps.workflows.referencedBy(request.workflow))];
        const missing = await deps.toolProblem(toolNamesUsedBy(definitions));
        if (missing !== undefined) {
          return {
            kind: 'tools_unavailable',
            message: `Runs of "${request.workflow}" cannot start now: ${missing}`,
          };
        }
      }
      const run = template(request.workflow);
      if (!run) {
        return {
          kind: 'unknown_workflow',
          message: unknownWorkflowMessage(request.workflow, deps.workflows),
        };
      }
      const unpriced = budgetProblem(request.workflow);
      if (unpriced !== undefined) return { kind: 'unpriced_budget', message: unpriced };
      const checked = validateWorkflowInput(run.definition, request.input);
      if (!checked.ok) return { kind: 'invalid_input', problems: checked.problems };
      const filed = await intakeFiles(run.definition, checked.value);
      if (filed.length > 0) return { kind: 'invalid_input', problems: filed };
      if (request.callbackUrl !== undefined) {
        const refused = await checkCallbackUrl(request.callbackUrl);
        if (refused !== undefined) return { kind: 'invalid_callback', message: refused };
      }
      const input: RunWorkflowInput = {
        ...run,
        input: checked.value,
        ...(request.callbackUrl === undefined ? {} : { callback: { url: request.callbackUrl } }),
        requestHash: requestHash(request),
      };
      return { kind: 'ready', definition: run.definition, input };
    },
    // The run's span: its trace context goes into the input, so the run's calls join its trace.
    async start(client, input, instanceId) {
      const started = await traceRunStart(input.definition.name, (trace) =>
        startOrchestration(
          client,
          Names.orchestrators.runWorkflow,
          trace === undefined ? input : { ...input, trace },
          instanceId,
        ),
      );
      if (!started.existing || input.requestHash === undefined) return started;
      const stored = await storedRequestHash(client, started.instanceId);
      // Runs started before hashes were stored have none: those repeats replay as they always did.
      return stored === undefined || stored === input.requestHash
        ? started
        : { ...started, differentRequest: true };
    },
    startOrchestration,
  };
}

async function statusOf(
  client: DurableClient,
  instanceId: string,
): Promise<DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId, { showInput: false });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The `requestHash` the run with this id was started with, if it has one. */
async function storedRequestHash(client: DurableClient, instanceId: string): Promise<string | undefined> {
  const status = await client.getStatus(instanceId, { showInput: true });
  const input: unknown = status.input;
  if (typeof input !== 'object' || input === null) return undefined;
  const hash = (input as { requestHash?: unknown }).requestHash;
  return typeof hash === 'string' ? hash : undefined;
}
