/** What happens once per process when the Functions host loads the app: load workflows, announce models. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DefinitionCheckOptions } from './definitions/checkDefinition.js';
import { loadFailureMessage, type DefinitionError } from './definitions/errors.js';
import { loadWorkflowDirectory } from './definitions/loadWorkflows.js';
import { describeModelConfig, type ModelConfig } from './config/models.js';
import { describeUnpriced, UNPRICED_FIX, unpricedConfiguredRoutes } from './models/unpriced.js';
import { ProviderKind } from './shared/modelTypes.js';
import { createWorkflowCatalog, type WorkflowCatalog } from './shared/workflows.js';

/** The app folder (the one with host.json), found from this file whether it runs compiled or not. */
export function appRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'host.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '../..');
  }
}

/** `WORKFLOWS_DIR` when set (relative to the app folder), else the app's own `workflows/`. */
export function workflowsDirectory(configured: string | undefined, root: string = appRoot()): string {
  return configured ? path.resolve(root, configured) : path.join(root, 'workflows');
}

/**
 * `TOOLS_DIR` when set (relative to the app folder; it must exist), else `tools/` beside the workflows
 * folder, which may be absent (no HTTP tools).
 */
export function toolsDirectory(
  configured: string | undefined,
  workflowsDir: string,
  root: string = appRoot(),
): string {
  if (!configured) return path.join(path.dirname(workflowsDir), 'tools');
  const directory = path.resolve(root, configured);
  if (!existsSync(directory)) {
    throw new Error(`No tools folder at ${directory}; create it or point TOOLS_DIR at one.`);
  }
  return directory;
}

export class WorkflowLoadError extends Error {
  constructor(
    readonly directory: string,
    readonly errors: readonly DefinitionError[],
  ) {
    super(loadFailureMessage('Workflow definitions', directory, errors));
    this.name = new.target.name;
  }
}

export interface LoadCatalogOptions {
  readonly directory: string;
  readonly knownTools: readonly string[];
  /** See `DefinitionCheckOptions.isRuntimeTool` (MCP servers' tools). */
  readonly isRuntimeTool?: (name: string) => boolean;
  readonly knownRoles: readonly string[];
  readonly maxAgentTurns?: number;
  /** With the model configuration: `batch: true` steps must reach a provider with a batch API. */
  readonly batchRouteProblem?: DefinitionCheckOptions['batchRouteProblem'];
}

/** Every role a workflow may name: configured ones, and defaults whose provider is missing (they fail when called). */
export function knownRoles(config: ModelConfig): string[] {
  return [...new Set([...Object.keys(config.roles), ...Object.keys(config.unavailableRoles)])].sort();
}

/** Loads and validates `workflows/*.yaml`; throws one error listing every problem in every file. */
export function loadWorkflowCatalog(options: LoadCatalogOptions): WorkflowCatalog {
  const { directory } = options;
  if (!existsSync(directory)) {
    throw new Error(`No workflows folder at ${directory}; create it or point WORKFLOWS_DIR at one.`);
  }
  const { definitions, errors } = loadWorkflowDirectory(directory, {
    knownTools: options.knownTools,
    ...(options.isRuntimeTool ? { isRuntimeTool: options.isRuntimeTool } : {}),
    knownRoles: options.knownRoles,
    maxAgentTurns: options.maxAgentTurns,
    knownProviders: ProviderKind.options,
    ...(options.batchRouteProblem ? { batchRouteProblem: options.batchRouteProblem } : {}),
  });
  if (errors.length > 0) throw new WorkflowLoadError(directory, errors);
  if (definitions.size === 0) {
    throw new Error(`No workflow definitions (*.yaml) in ${directory}; the app has nothing to run.`);
  }
  return createWorkflowCatalog(definitions);
}

export interface StartupSummary {
  readonly directory: string;
  readonly workflows: WorkflowCatalog;
  readonly tools: readonly string[];
  readonly models: ModelConfig;
}

const BANNER = '!'.repeat(100);

/** Secret-free startup lines; offline mode is framed so nobody mistakes its answers for a model's. */
export function describeStartup(summary: StartupSummary): { info: string; warning?: string } {
  const workflows = summary.workflows
    .names()
    .map((name) => `${name} ${summary.workflows.get(name)?.version ?? ''}`.trim());
  const info = [
    `Workflows (${summary.directory}): ${workflows.join(', ')}`,
    `Tools: ${summary.tools.length > 0 ? summary.tools.join(', ') : '(none)'}`,
    ...(summary.models.offline ? [] : [describeModelConfig(summary.models)]),
  ].join('\n');
  const unpriced = unpricedWarning(summary.models);
  if (!summary.models.offline) return unpriced === undefined ? { info } : { info, warning: unpriced };
  const warning = [
    BANNER,
    describeModelConfig(summary.models),
    'Every run uses the offline model: results are placeholders marked "offline: true" in the ledger.',
    'Configure a provider (see src/models/README.md) for real answers.',
    BANNER,
    ...(unpriced === undefined ? [] : [unpriced]),
  ].join('\n');
  return { info, warning };
}

/** Names every role/deployment without a price: their calls cost 0, so budgets cannot count them. */
export function unpricedWarning(models: ModelConfig): string | undefined {
  const routes = unpricedConfiguredRoutes(models);
  if (routes.length === 0) return undefined;
  return (
    `No price for ${routes.length === 1 ? 'this deployment' : `these ${routes.length} deployments`}: ` +
    `${describeUnpriced(routes)}. Their calls are booked at $0 (priced: false), and runs of workflows ` +
    `with a budget that can reach them are refused; ${UNPRICED_FIX}.`
  );
}
