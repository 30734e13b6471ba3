import { randomUUID } from 'node:crypto';
import type { FunctionInvoker } from '../functions/types.js';
import type {
  CommandOutcome,
  InstanceFilter,
  InstancePage,
  InstancePageRequest,
  InstanceStatus,
  StartOutcome,
  StartRequest,
} from './backend.js';
import { formatStatusTime, type Clock } from './clock.js';
import { isTerminal } from './episode.js';
import { EventType, eventTypeName, makeEvent, type HistoryEvent } from './history.js';
import { newLedger, type Ledger } from './ledger.js';
import type { DurableStore, InstanceRow, WorkItemRow } from './store.js';

export interface EngineHooks {
  notify(instanceId: string): void;
  enqueueWork(item: WorkItemRow): void;
  invalidate(instanceId: string): void;
  armTimer(): void;
}

function newInstanceId(): string {
  return randomUUID().replace(/-/g, '');
}

function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

/** Client-side operations on instances (the DurableBackend methods other than dispatch). */
export class InstanceOps {
  constructor(
    private readonly store: DurableStore,
    private readonly clock: Clock,
    private readonly invoker: FunctionInvoker,
    private readonly hooks: EngineHooks,
    /** host.json `defaultVersion`: the version of new instances and sub-orchestrations that name none. */
    private readonly defaultVersion?: string,
  ) {}

  #isOrchestrator(name: string): boolean {
    return this.invoker.registrations.get(name)?.triggerType.toLowerCase() === 'orchestrationtrigger';
  }

  /** Writes a fresh instance + its ExecutionStarted message; call inside a transaction. */
  #create(
    name: string,
    id: string,
    inputJson: string | null,
    version: string | undefined,
    parent: { id: string; executionId: string; taskId: number } | undefined,
    now: number,
  ): void {
    const q = this.store.q;
    q.deleteHistory.run(id);
    q.deleteMessages.run(id);
    q.deleteWorkItems.run(id);
    this.hooks.invalidate(id);
    const executionId = newInstanceId();
    const row: InstanceRow = {
      instance_id: id,
      name,
      version: version ?? null,
      status: 'Pending',
      input: inputJson,
      output: null,
      custom_status: null,
      failure_details: null,
      created_ms: now,
      updated_ms: now,
      execution_id: executionId,
      parent_instance_id: parent?.id ?? null,
      parent_execution_id: parent?.executionId ?? null,
      parent_task_id: parent?.taskId ?? null,
      ledger: JSON.stringify(newLedger()),
    };
    q.insertInstance.run(row);
    q.setInput.run(id, inputJson);
    const started = makeEvent(EventType.ExecutionStarted, now, {
      Name: name,
      ...(inputJson !== null ? { Input: inputJson } : {}),
      Version: version ?? '',
      OrchestrationInstance: { InstanceId: id, ExecutionId: executionId },
      ParentInstance: parent
        ? { OrchestrationInstance: { InstanceId: parent.id }, TaskScheduleId: parent.taskId, Name: name }
        : null,
    });
    q.insertMessage.run(id, executionId, 0, JSON.stringify(started), null);
  }

  start(request: StartRequest): StartOutcome {
    if (!this.#isOrchestrator(request.orchestratorName)) return { kind: 'unknownOrchestrator' };
    const outcome = this.store.tx(this.#starter(request));
    if (outcome.kind === 'started') this.hooks.notify(outcome.instanceId);
    return outcome;
  }

  /** `start` in the store's group commit: settles (and wakes the instance) once the group is committed. */
  async startGrouped(request: StartRequest): Promise<StartOutcome> {
    if (!this.#isOrchestrator(request.orchestratorName)) return { kind: 'unknownOrchestrator' };
    const outcome = await this.store.groupTx(this.#starter(request));
    if (outcome.kind === 'started') this.hooks.notify(outcome.instanceId);
    return outcome;
  }

  /** The transaction body of a start: refuses a live instance of the same id, else creates it. */
  #starter(request: StartRequest): () => StartOutcome {
    const id = request.instanceId ?? newInstanceId();
    const inputJson = request.input === undefined ? null : JSON.stringify(request.input);
    return () => {
      const existing = this.store.q.getInstance.get(id);
      if (existing && !isTerminal(existing.status))
        return { kind: 'conflict', instanceId: id, status: existing.status };
      this.#create(
        request.orchestratorName,
        id,
        inputJson,
        request.version ?? this.defaultVersion,
        undefined,
        this.clock.now(),
      );
      return { kind: 'started', instanceId: id };
    };
  }

  /** Starts a sub-orchestration inside the parent's commit; returns a failure reason when it cannot. */
  startChild(
    o: { taskId: number; name: string; instanceId: string; input: string; version: string | undefined },
    parent: InstanceRow,
    now: number,
  ): string | undefined {
    if (!this.#isOrchestrator(o.name)) {
      return `The function '${o.name}' doesn't exist, is disabled, or is not an orchestrator function.`;
    }
    const existing = this.store.q.getInstance.get(o.instanceId);
    if (existing && !isTerminal(existing.status)) {
      return `An orchestration with instance ID '${o.instanceId}' already exists and is ${existing.status}.`;
    }
    const ref = { id: parent.instance_id, executionId: parent.execution_id, taskId: o.taskId };
    this.#create(o.name, o.instanceId, o.input, o.version ?? this.defaultVersion, ref, now);
    return undefined;
  }

  send(id: string, event: HistoryEvent): CommandOutcome {
    const now = this.clock.now();
    const outcome = this.store.tx((): CommandOutcome => {
      const row = this.store.q.getInstance.get(id);
      if (!row) return 'notFound';
      if (isTerminal(row.status)) return 'gone';
      this.store.q.insertMessage.run(
        id,
        null,
        0,
        JSON.stringify({ ...event, Timestamp: new Date(now).toISOString() }),
        null,
      );
      return 'accepted';
    });
    if (outcome === 'accepted') this.hooks.notify(id);
    return outcome;
  }

  getStatus(
    id: string,
    o: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean } = {},
  ): InstanceStatus | undefined {
    const showInput = o.showInput !== false;
    const row = (showInput ? this.store.q.getInstance : this.store.q.getInstanceHead).get(id);
    if (!row) return undefined;
    const status = toStatus(row, showInput);
    if (o.showHistory === true) {
      const events = this.store.q.history.all(id).map((r) => JSON.parse(r.event) as HistoryEvent);
      status.historyEvents = historyForStatus(events, o.showHistoryOutput === true);
    }
    return status;
  }

  list(request: InstancePageRequest): InstancePage {
    const top = Math.max(1, Math.min(request.top ?? 100, 1000));
    const { where, params } = filterSql(request);
    if (request.continuationToken !== undefined) {
      const token = decodeToken(request.continuationToken);
      where.push('(created_ms > ? OR (created_ms = ? AND instance_id > ?))');
      params.push(token.c, token.c, token.i);
    }
    const showInput = request.showInput !== false;
    const rows = this.store.listInstances(
      where.length ? `WHERE ${where.join(' AND ')}` : '',
      params,
      top + 1,
      showInput,
    );
    const page = rows.slice(0, top);
    const last = page.at(-1);
    return {
      instances: page.map((r) => toStatus(r, showInput)),
      ...(rows.length > top && last
        ? {
            continuationToken: Buffer.from(
              JSON.stringify({ c: last.created_ms, i: last.instance_id }),
            ).toString('base64url'),
          }
        : {}),
    };
  }

  purge(id: string): number {
    return this.store.tx(() => {
      const row = this.store.q.getInstance.get(id);
      if (!row || !isTerminal(row.status)) return 0;
      this.#delete(id);
      return 1;
    });
  }

  purgeByFilter(filter: InstanceFilter): number {
    const { where, params } = filterSql(filter);
    return this.store.tx(() => {
      const rows = this.store.listInstances(
        where.length ? `WHERE ${where.join(' AND ')}` : '',
        params,
        1_000_000,
        false,
      );
      let n = 0;
      for (const r of rows) {
        if (!isTerminal(r.status)) continue;
        this.#delete(r.instance_id);
        n++;
      }
      return n;
    });
  }

  #delete(id: string): void {
    const q = this.store.q;
    q.deleteInstance.run(id);
    q.deleteInput.run(id);
    q.deleteHistory.run(id);
    q.deleteMessages.run(id);
    q.deleteWorkItems.run(id);
    this.hooks.invalidate(id);
  }

  restart(id: string, newId: boolean): { kind: 'restarted'; instanceId: string } | { kind: 'notFound' } {
    const row = this.store.q.getInstance.get(id);
    if (!row) return { kind: 'notFound' };
    const target = newId ? newInstanceId() : id;
    this.store.tx(() =>
      this.#create(row.name, target, row.input, row.version ?? undefined, undefined, this.clock.now()),
    );
    this.hooks.notify(target);
    return { kind: 'restarted', instanceId: target };
  }

  /**
   * Rewind, like the extension: the failure events of the failing episode are removed, the failed
   * activities are scheduled again with the same task ids, failed sub-orchestrations are rewound,
   * and tasks still open in history get their work back.
   */
  rewind(id: string, reason: string | undefined): CommandOutcome {
    const touched: string[] = [];
    const outcome = this.store.tx(() => this.#rewindTx(id, reason, touched));
    for (const t of touched) {
      this.hooks.invalidate(t);
      this.hooks.notify(t);
    }
    this.hooks.armTimer();
    return outcome;
  }

  #rewindTx(id: string, reason: string | undefined, touched: string[]): CommandOutcome {
    const q = this.store.q;
    const row = q.getInstance.get(id);
    if (!row) return 'notFound';
    if (row.status !== 'Failed') return 'badState';
    const rows = q.history.all(id).map((r) => ({ seq: r.seq, ev: JSON.parse(r.event) as HistoryEvent }));
    const endIdx = rows.findLastIndex((r) => r.ev.EventType === EventType.ExecutionCompleted);
    const startIdx = rows.findLastIndex(
      (r, i) => i < endIdx && r.ev.EventType === EventType.OrchestratorStarted,
    );
    const failed = rows
      .slice(startIdx + 1, endIdx)
      .filter(
        (r) =>
          r.ev.EventType === EventType.TaskFailed ||
          r.ev.EventType === EventType.SubOrchestrationInstanceFailed,
      );
    if (endIdx < 0) return 'badState';
    if (failed.length === 0) {
      // The orchestrator itself threw: nothing to re-run, so the instance is revived with a GenericEvent
      // and replays, as DurableTask.AzureStorage's RewindHistoryAsync does for an execution whose only
      // failure row is ExecutionCompleted(Failed) (it clears that row, resets the status and sends the
      // instance a GenericEvent; Azure/durabletask src/DurableTask.AzureStorage/Tracking/
      // AzureTableTrackingStore.cs). durable-functions ignores the GenericEvent when replaying.
      const now = this.clock.now();
      const seq = rows[endIdx]?.seq;
      if (seq !== undefined) q.deleteHistoryRow.run(id, seq);
      const revive = makeEvent(EventType.GenericEvent, now, { Data: reason ?? '' });
      q.insertMessage.run(id, row.execution_id, now, JSON.stringify(revive), null);
      q.updateInstance.run({
        ...row,
        status: 'Running',
        output: null,
        failure_details: null,
        updated_ms: now,
      });
      touched.push(id);
      return 'accepted';
    }
    const ledger = JSON.parse(row.ledger) as Ledger;
    const now = this.clock.now();
    const removed = new Set([rows[endIdx]?.seq, ...failed.map((f) => f.seq)]);
    for (const seq of removed) if (seq !== undefined) q.deleteHistoryRow.run(id, seq);
    const remaining = rows.filter((r) => !removed.has(r.seq)).map((r) => r.ev);
    const done = new Set<number>();
    for (const ev of remaining) {
      if (ev.TaskScheduledId !== undefined) done.add(ev.TaskScheduledId);
      if (ev.EventType === EventType.TimerFired && ev.TimerId !== undefined) done.add(ev.TimerId);
    }
    const pendingWork = new Set(q.workItemsOf.all(id).map((w) => w.task_id));
    const openTimers = new Set(Object.values(ledger.timers));
    for (const ev of remaining) {
      if (done.has(ev.EventId) || ev.EventId < 0) continue;
      if (ev.EventType === EventType.TaskScheduled && !pendingWork.has(ev.EventId)) {
        const r = q.insertWorkItem.run(id, row.execution_id, ev.EventId, ev.Name ?? '', ev.Input ?? 'null');
        this.hooks.enqueueWork({
          id: Number(r.lastInsertRowid),
          instance_id: id,
          execution_id: row.execution_id,
          task_id: ev.EventId,
          name: ev.Name ?? '',
          input: ev.Input ?? 'null',
        });
      } else if (
        ev.EventType === EventType.TimerCreated &&
        (openTimers.has(ev.EventId) || ledger.tasks[String(ev.EventId)])
      ) {
        if (!q.timerMessageExists.get(id, ev.EventId)) {
          const fireAt = Date.parse(ev.FireAt ?? '');
          const fired = makeEvent(EventType.TimerFired, fireAt, {
            TimerId: ev.EventId,
            FireAt: ev.FireAt ?? '',
          });
          q.insertMessage.run(id, row.execution_id, fireAt, JSON.stringify(fired), ev.EventId);
        }
      } else if (ev.EventType === EventType.SubOrchestrationInstanceCreated && ev.InstanceId !== undefined) {
        const child = q.getInstance.get(ev.InstanceId);
        if (child?.status === 'Failed') this.#rewindTx(ev.InstanceId, reason, touched);
        else if (!child || isTerminal(child.status)) {
          const ref = { id, executionId: row.execution_id, taskId: ev.EventId };
          const version = ev.Version === undefined || ev.Version === '' ? this.defaultVersion : ev.Version;
          this.#create(ev.Name ?? '', ev.InstanceId, ev.Input ?? null, version, ref, now);
          touched.push(ev.InstanceId);
        }
      }
    }
    q.updateInstance.run({ ...row, status: 'Running', output: null, failure_details: null, updated_ms: now });
    touched.push(id);
    return 'accepted';
  }
}

function toStatus(row: InstanceRow, showInput: boolean): InstanceStatus {
  return {
    name: row.name,
    instanceId: row.instance_id,
    runtimeStatus: row.status,
    input: showInput ? parseJson(row.input) : null,
    customStatus: parseJson(row.custom_status),
    output: parseJson(row.output),
    createdTime: formatStatusTime(row.created_ms),
    lastUpdatedTime: formatStatusTime(row.updated_ms),
  };
}

function filterSql(f: InstanceFilter): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.createdTimeFrom) {
    where.push('created_ms >= ?');
    params.push(f.createdTimeFrom.getTime());
  }
  if (f.createdTimeTo) {
    where.push('created_ms <= ?');
    params.push(f.createdTimeTo.getTime());
  }
  if (f.runtimeStatus && f.runtimeStatus.length > 0) {
    where.push(`status IN (${f.runtimeStatus.map(() => '?').join(',')})`);
    params.push(...f.runtimeStatus);
  }
  if (f.instanceIdPrefix) {
    where.push('substr(instance_id, 1, ?) = ?');
    params.push(f.instanceIdPrefix.length, f.instanceIdPrefix);
  }
  return { where, params };
}

function decodeToken(token: string): { c: number; i: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { c: unknown; i: unknown };
    if (typeof t.c === 'number' && typeof t.i === 'string') return { c: t.c, i: t.i };
  } catch {
    // fall through to the error below
  }
  throw new Error(`Invalid continuation token '${token}'.`);
}

/**
 * History in the shape the Durable extension's HTTP API answers `showHistory=true` with, trimmed exactly
 * as the extension trims it (azure-functions-durable-extension,
 * `src/WebJobs.Extensions.DurableTask/ContextImplementations/DurableClient.cs`,
 * `GetDurableOrchestrationStatusAsync`), so the app can rely on nothing Azure does not show:
 * - EventType as its name; `EventId` and `IsPlayed` removed from every event;
 * - OrchestratorStarted / OrchestratorCompleted dropped;
 * - a TaskScheduled (SubOrchestrationInstanceCreated) whose completion or failure is in the history is
 *   dropped and folded into that event as `FunctionName` + `ScheduledTime`, and `TaskScheduledId` removed;
 *   one still pending keeps `Name` (and a child its `InstanceId`) without `Input` or `Version`;
 * - `Result` only with `showHistoryOutput` (parsed JSON), on completions and ExecutionCompleted;
 * - `TimerId` removed from TimerFired; `Input` removed from EventRaised and ExecutionTerminated;
 * - ExecutionStarted: `Name` renamed `FunctionName`; `Input`, `Version`, `OrchestrationInstance`,
 *   `ParentInstance` and `Tags` removed.
 */
function historyForStatus(events: HistoryEvent[], showOutput: boolean): Record<string, unknown>[] {
  const scheduled = new Map<string, { index: number; name: string | undefined; timestamp: string }>();
  const folded = new Set<number>();
  const out: (Record<string, unknown> | undefined)[] = [];
  for (const ev of events) {
    const type = ev.EventType;
    if (type === EventType.OrchestratorStarted || type === EventType.OrchestratorCompleted) continue;
    const item: Record<string, unknown> = { EventType: eventTypeName(type), Timestamp: ev.Timestamp };
    const index = out.length;
    switch (type) {
      case EventType.TaskScheduled:
      case EventType.SubOrchestrationInstanceCreated:
        scheduled.set(`${type}_${ev.EventId}`, { index, name: ev.Name, timestamp: ev.Timestamp });
        if (ev.Name !== undefined) item.Name = ev.Name;
        if (ev.InstanceId !== undefined) item.InstanceId = ev.InstanceId;
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed: {
        const by =
          type === EventType.TaskCompleted || type === EventType.TaskFailed
            ? EventType.TaskScheduled
            : EventType.SubOrchestrationInstanceCreated;
        const origin = scheduled.get(`${by}_${ev.TaskScheduledId}`);
        if (origin) {
          item.ScheduledTime = origin.timestamp;
          if (origin.name !== undefined) item.FunctionName = origin.name;
          folded.add(origin.index);
        }
        if (ev.Reason !== undefined) item.Reason = ev.Reason;
        if (ev.Details !== undefined) item.Details = ev.Details;
        if (ev.FailureDetails !== undefined) item.FailureDetails = ev.FailureDetails;
        const completed =
          type === EventType.TaskCompleted || type === EventType.SubOrchestrationInstanceCompleted;
        if (showOutput && completed && ev.Result !== undefined) item.Result = parseOrText(ev.Result);
        break;
      }
      case EventType.ExecutionStarted:
        if (ev.Name !== undefined) item.FunctionName = ev.Name;
        break;
      case EventType.ExecutionCompleted:
        if (ev.OrchestrationStatus !== undefined) item.OrchestrationStatus = ev.OrchestrationStatus;
        if (ev.FailureDetails !== undefined) item.FailureDetails = ev.FailureDetails;
        if (showOutput && ev.Result !== undefined) item.Result = parseOrText(ev.Result);
        break;
      case EventType.TimerCreated:
      case EventType.TimerFired:
        if (ev.FireAt !== undefined) item.FireAt = ev.FireAt;
        break;
      case EventType.EventRaised:
      case EventType.EventSent:
        if (ev.Name !== undefined) item.Name = ev.Name;
        if (type === EventType.EventSent && ev.InstanceId !== undefined) item.InstanceId = ev.InstanceId;
        if (type === EventType.EventSent && ev.Input !== undefined) item.Input = ev.Input;
        break;
      case EventType.ExecutionTerminated:
        break;
      default:
        if (ev.Name !== undefined) item.Name = ev.Name;
        if (ev.Reason !== undefined) item.Reason = ev.Reason;
        if (ev.Data !== undefined) item.Data = ev.Data;
        break;
    }
    out.push(item);
  }
  return out.filter(
    (item, index): item is Record<string, unknown> => item !== undefined && !folded.has(index),
  );
}

/** The extension's `ParseToJToken`: JSON when it parses, else the raw text (common for terminations). */
function parseOrText(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.length === 0) return '';
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return trimmed;
  }
}
