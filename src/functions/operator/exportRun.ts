import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableInstance } from '../../operator/durableManagement.js';
import { descendantIds } from '../../operator/runSources.js';
import { parentOf } from '../../operator/waterfall.js';
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
      // Found by id prefix: the history API drops a finished child's creation event (runSources.ts).
      const ids = await descendantIds(management, root, MAX_EXPORTED_INSTANCES - 1);
      const known = new Set(ids);
      for (const child of ids) {
        const instance = await management.getInstance(child, { history: true, input: true });
        if (instance) instances.push(exportedInstance(instance, parentOf(id, child, known) ?? id));
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
