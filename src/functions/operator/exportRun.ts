import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableInstance } from '../../operator/durableManagement.js';
import { childInstanceIds } from '../../operator/timeline.js';
import {
  ApiHistoryEvent,
  RUN_EXPORT_FORMAT,
  RUN_EXPORT_VERSION,
  sha256Hex,
  type ExportedInstance,
  type ExportedWorkflow,
  type RunExport,
} from '../../replay/exportFile.js';
import { answerProblems, managementFor, unknownRun, type OperatorDeps } from './operatorHttp.js';

/** Sub-orchestrations exported with a run at most (a batch run can start thousands). */
const MAX_EXPORTED_INSTANCES = 200;

export interface ExportRunDeps extends OperatorDeps {
  /** The folder the app loads workflows/*.yaml from. */
  readonly workflowsDirectory: string;
}

/** The definition file the app has now for a workflow name, if any. */
function workflowFile(directory: string, name: string, version: unknown): ExportedWorkflow | null {
  for (const file of [`${name}.yaml`, `${name}.yml`]) {
    const full = path.join(directory, file);
    if (!existsSync(full)) continue;
    const source = readFileSync(full, 'utf8');
    return {
      name,
      version: typeof version === 'string' ? version : null,
      file,
      sha256: sha256Hex(source),
      source,
    };
  }
  return null;
}

const definitionOf = (input: unknown): { name?: unknown; version?: unknown } | undefined => {
  if (typeof input !== 'object' || input === null || !('definition' in input)) return undefined;
  const definition = input.definition;
  return typeof definition === 'object' && definition !== null ? definition : undefined;
};

function exportedInstance(instance: DurableInstance, parent: string | null): ExportedInstance {
  return {
    instanceId: instance.instanceId,
    name: instance.name,
    parentInstanceId: parent,
    runtimeStatus: instance.runtimeStatus,
    input: instance.input === undefined ? null : JSON.stringify(instance.input),
    history: { shape: 'httpApi', events: ApiHistoryEvent.array().parse(instance.historyEvents ?? []) },
  };
}

/**
 * `GET /api/operator/runs/{id}/export`: the run and its sub-orchestrations with their histories as the
 * Durable HTTP API lists them (`showHistory`, `showHistoryOutput`, `showInput`), and the workflow
 * definition file the app has for it, as a run export (src/replay/exportFile.ts). Unredacted: replay
 * needs the recorded values (secrets never enter history, see src/operator/README.md). Whether the
 * histories can be replayed depends on the host (src/replay/README.md).
 */
export function createExportRun(deps: ExportRunDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const id = request.params.id ?? '';
    return answerProblems(context, async () => {
      const management = managementFor(deps, deps.getClient(context));
      const root = await management.getInstance(id, { history: true, input: true });
      if (!root) return unknownRun(id);
      const instances = [exportedInstance(root, null)];
      const queue = childInstanceIds(root.historyEvents ?? []).map((child) => ({ child, parent: id }));
      const seen = new Set([id]);
      while (queue.length > 0 && instances.length < MAX_EXPORTED_INSTANCES) {
        const { child, parent } = queue.shift() as { child: string; parent: string };
        if (seen.has(child)) continue;
        seen.add(child);
        const instance = await management.getInstance(child, { history: true, input: true });
        if (!instance) continue;
        instances.push(exportedInstance(instance, parent));
        for (const grandchild of childInstanceIds(instance.historyEvents ?? []))
          queue.push({ child: grandchild, parent: child });
      }
      const definition = definitionOf(root.input);
      const body: RunExport = {
        format: RUN_EXPORT_FORMAT,
        version: RUN_EXPORT_VERSION,
        exportedAt: (deps.now?.() ?? new Date()).toISOString(),
        source: 'durable-http-api',
        run: {
          instanceId: root.instanceId,
          name: root.name,
          runtimeStatus: root.runtimeStatus,
          createdTime: root.createdTime,
          lastUpdatedTime: root.lastUpdatedTime,
        },
        workflow:
          typeof definition?.name === 'string'
            ? workflowFile(deps.workflowsDirectory, definition.name, definition.version)
            : null,
        instances,
      };
      return { status: 200, jsonBody: body };
    });
  };
}
