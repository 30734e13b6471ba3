import { randomUUID } from 'node:crypto';
import type {
  CommandOutcome,
  DurableBackend,
  InstanceFilter,
  InstancePage,
  InstancePageRequest,
  InstanceStatus,
  RuntimeStatus,
  StartOutcome,
  StartRequest,
} from '../../devhost/durable/backend.js';

const TERMINAL: RuntimeStatus[] = ['Completed', 'Failed', 'Canceled', 'Terminated'];
const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface FakeCall {
  op: string;
  args: unknown[];
}

/** In-memory DurableBackend for HTTP-layer tests: no orchestrations run; tests move state by hand. */
export class FakeBackend implements DurableBackend {
  readonly taskHubName: string;
  readonly orchestrators: Set<string>;
  readonly instances = new Map<string, InstanceStatus & { created: Date }>();
  readonly calls: FakeCall[] = [];
  /** Test clock for createdTime; each start advances it by one second. */
  now = new Date('2026-01-01T00:00:00Z');
  /** Page size when the request names none (the real default is 100). */
  pageSize = 100;

  constructor(orchestrators: string[], taskHubName = 'TestHubName') {
    this.orchestrators = new Set(orchestrators);
    this.taskHubName = taskHubName;
  }

  start(request: StartRequest): StartOutcome {
    this.calls.push({ op: 'start', args: [request] });
    if (!this.orchestrators.has(request.orchestratorName)) return { kind: 'unknownOrchestrator' };
    const id = request.instanceId ?? randomUUID().replace(/-/g, '');
    const existing = this.instances.get(id);
    if (existing && !TERMINAL.includes(existing.runtimeStatus))
      return { kind: 'conflict', instanceId: id, status: existing.runtimeStatus };
    this.now = new Date(this.now.getTime() + 1000);
    this.instances.set(id, {
      name: request.orchestratorName,
      instanceId: id,
      runtimeStatus: 'Running',
      input: request.input ?? null,
      customStatus: null,
      output: null,
      createdTime: iso(this.now),
      lastUpdatedTime: iso(this.now),
      created: this.now,
    });
    return { kind: 'started', instanceId: id };
  }

  /** Test helper: move an instance to a new state. */
  set(id: string, runtimeStatus: RuntimeStatus, output: unknown = null): void {
    const instance = this.instances.get(id);
    if (!instance) throw new Error(`no instance ${id}`);
    instance.runtimeStatus = runtimeStatus;
    instance.output = output;
  }

  getStatus(
    instanceId: string,
    options?: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean },
  ): InstanceStatus | undefined {
    const found = this.instances.get(instanceId);
    if (!found) return undefined;
    const { created: _created, ...status } = found;
    if (options?.showHistory) status.historyEvents = [{ EventType: 'ExecutionStarted', Name: status.name }];
    return status;
  }

  #filter(filter: InstanceFilter): (InstanceStatus & { created: Date })[] {
    return [...this.instances.values()]
      .filter((i) => !filter.createdTimeFrom || i.created >= filter.createdTimeFrom)
      .filter((i) => !filter.createdTimeTo || i.created <= filter.createdTimeTo)
      .filter((i) => !filter.runtimeStatus?.length || filter.runtimeStatus.includes(i.runtimeStatus))
      .filter((i) => !filter.instanceIdPrefix || i.instanceId.startsWith(filter.instanceIdPrefix))
      .sort((a, b) => a.created.getTime() - b.created.getTime() || a.instanceId.localeCompare(b.instanceId));
  }

  listInstances(request: InstancePageRequest): InstancePage {
    this.calls.push({ op: 'list', args: [request] });
    let offset = 0;
    if (request.continuationToken) {
      const decoded = Buffer.from(request.continuationToken, 'base64url').toString('utf8');
      if (!/^offset:\d+$/.test(decoded)) throw new Error('unrecognised continuation token');
      offset = Number(decoded.slice(7));
    }
    const all = this.#filter(request);
    const top = request.top ?? this.pageSize;
    const page = all.slice(offset, offset + top).map((i) => this.getStatus(i.instanceId) as InstanceStatus);
    const next =
      offset + top < all.length ? Buffer.from(`offset:${offset + top}`).toString('base64url') : undefined;
    return { instances: page, ...(next ? { continuationToken: next } : {}) };
  }

  #command(
    op: string,
    id: string,
    args: unknown[],
    apply: (i: InstanceStatus) => CommandOutcome,
  ): CommandOutcome {
    this.calls.push({ op, args: [id, ...args] });
    const instance = this.instances.get(id);
    if (!instance) return 'notFound';
    if (TERMINAL.includes(instance.runtimeStatus)) return 'gone';
    return apply(instance);
  }

  raiseEvent(instanceId: string, eventName: string, data: unknown): CommandOutcome {
    return this.#command('raiseEvent', instanceId, [eventName, data], () => 'accepted');
  }

  terminate(instanceId: string, reason: string | undefined): CommandOutcome {
    return this.#command('terminate', instanceId, [reason], (i) => {
      i.runtimeStatus = 'Terminated';
      i.output = reason ?? null;
      return 'accepted';
    });
  }

  suspend(instanceId: string, reason: string | undefined): CommandOutcome {
    return this.#command('suspend', instanceId, [reason], (i) => {
      i.runtimeStatus = 'Suspended';
      return 'accepted';
    });
  }

  resume(instanceId: string, reason: string | undefined): CommandOutcome {
    return this.#command('resume', instanceId, [reason], (i) => {
      i.runtimeStatus = 'Running';
      return 'accepted';
    });
  }

  rewind(instanceId: string, reason: string | undefined): CommandOutcome {
    this.calls.push({ op: 'rewind', args: [instanceId, reason] });
    const instance = this.instances.get(instanceId);
    if (!instance) return 'notFound';
    if (instance.runtimeStatus !== 'Failed') return 'badState';
    instance.runtimeStatus = 'Running';
    return 'accepted';
  }

  restart(
    instanceId: string,
    restartWithNewInstanceId: boolean,
  ): { kind: 'restarted'; instanceId: string } | { kind: 'notFound' } {
    this.calls.push({ op: 'restart', args: [instanceId, restartWithNewInstanceId] });
    const instance = this.instances.get(instanceId);
    if (!instance) return { kind: 'notFound' };
    const outcome = this.start({
      orchestratorName: instance.name,
      instanceId: restartWithNewInstanceId ? undefined : instanceId,
      input: instance.input,
    });
    return outcome.kind === 'started'
      ? { kind: 'restarted', instanceId: outcome.instanceId }
      : { kind: 'notFound' };
  }

  purge(instanceId: string): number {
    this.calls.push({ op: 'purge', args: [instanceId] });
    const instance = this.instances.get(instanceId);
    if (!instance || !TERMINAL.includes(instance.runtimeStatus)) return 0;
    this.instances.delete(instanceId);
    return 1;
  }

  purgeByFilter(filter: InstanceFilter): number {
    this.calls.push({ op: 'purgeByFilter', args: [filter] });
    let n = 0;
    for (const i of this.#filter(filter)) {
      if (TERMINAL.includes(i.runtimeStatus)) {
        this.instances.delete(i.instanceId);
        n++;
      }
    }
    return n;
  }
}
