/**
 * A run's orchestration histories read straight from a devhost state dir (`durable.sqlite`), in the
 * shape the orchestration trigger carries them: what scripts/recordReplayFixtures.ts commits and what
 * the replay tests record. The Durable HTTP API cannot give these (see src/replay/README.md).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DurableStore } from '../../devhost/durable/store.js';
import {
  RUN_EXPORT_FORMAT,
  RUN_EXPORT_VERSION,
  sha256Hex,
  type ExportedInstance,
  type RunExport,
} from '../../src/replay/exportFile.js';
import { EventType, HistoryEvent } from '../../src/replay/history.js';

interface InstanceRow {
  instance_id: string;
  name: string;
  status: string;
  parent_instance_id: string | null;
  created_ms: number;
  updated_ms: number;
}

/**
 * Inputs the replay never reads: durable-functions takes the orchestration input from the trigger's
 * `input` and matches tasks by number, and DurableTask.Core compares scheduling events by number, kind
 * and name only. Left out to keep exports small (a callModel input carries a transcript reference and
 * the step's prompt; a child's input its whole definition).
 */
const UNREAD_INPUTS = new Set<number>([
  EventType.ExecutionStarted,
  EventType.TaskScheduled,
  EventType.SubOrchestrationInstanceCreated,
]);

function slim(event: HistoryEvent): HistoryEvent {
  if (!UNREAD_INPUTS.has(event.EventType) || event.Input === undefined) return event;
  const copy = { ...event };
  delete copy.Input;
  return copy;
}

export interface StoreExportOptions {
  readonly stateDir: string;
  readonly instanceId: string;
  /** The workflow definition file the run started from, if any. */
  readonly workflowFile?: string;
  readonly workflowVersion?: string | null;
  /** Keep every Input (default: leave out those replay never reads). */
  readonly fullInputs?: boolean;
}

/** Exports a finished or running run and all its sub-orchestrations from a (stopped) devhost's store. */
export async function exportRunFromStore(options: StoreExportOptions): Promise<RunExport> {
  const store = new DurableStore(options.stateDir, { backgroundCheckpoints: false });
  try {
    const byId = store.db.prepare<[string], InstanceRow>('SELECT * FROM instances WHERE instance_id = ?');
    const children = store.db.prepare<[string], InstanceRow>(
      'SELECT * FROM instances WHERE parent_instance_id = ? ORDER BY created_ms, instance_id',
    );
    const inputOf = store.db.prepare<[string], { input: string | null }>(
      'SELECT input FROM instance_inputs WHERE instance_id = ?',
    );
    const root = byId.get(options.instanceId);
    if (!root) throw new Error(`No instance ${options.instanceId} in ${options.stateDir}`);
    const rows: InstanceRow[] = [];
    const visit = (row: InstanceRow) => {
      rows.push(row);
      for (const child of children.all(row.instance_id)) visit(child);
    };
    visit(root);
    const instances: ExportedInstance[] = rows.map((row) => {
      const events = store.q.history
        .all(row.instance_id)
        .map((r) => HistoryEvent.parse(JSON.parse(r.event)))
        .map((event) => (options.fullInputs ? event : slim(event)));
      return {
        instanceId: row.instance_id,
        name: row.name,
        parentInstanceId: row.parent_instance_id,
        runtimeStatus: row.status,
        input: inputOf.get(row.instance_id)?.input ?? null,
        history: { shape: 'orchestration', events },
      };
    });
    const source = options.workflowFile ? readFileSync(options.workflowFile, 'utf8') : undefined;
    return {
      format: RUN_EXPORT_FORMAT,
      version: RUN_EXPORT_VERSION,
      exportedAt: new Date(root.updated_ms).toISOString(),
      source: 'devhost-store',
      run: {
        instanceId: root.instance_id,
        name: root.name,
        runtimeStatus: root.status,
        createdTime: new Date(root.created_ms).toISOString(),
        lastUpdatedTime: new Date(root.updated_ms).toISOString(),
      },
      workflow:
        source !== undefined && options.workflowFile
          ? {
              name: path.basename(options.workflowFile).replace(/\.ya?ml$/, ''),
              version: options.workflowVersion ?? null,
              file: path.basename(options.workflowFile),
              sha256: sha256Hex(source),
              source,
            }
          : null,
      instances,
    };
  } finally {
    await store.close();
  }
}
