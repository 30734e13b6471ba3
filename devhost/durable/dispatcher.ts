import type { Clock } from './clock.js';
import type { DurableStore, WorkItemRow } from './store.js';

export interface DispatchLimits {
  maxActivities: number;
  maxOrchestrators: number;
}

export interface DispatchHandlers {
  runEpisode(instanceId: string): Promise<void>;
  runActivity(item: WorkItemRow): Promise<void>;
  log(line: string): void;
}

/** How long a fan-in waits for its other in-flight activities and children before replaying anyway. */
const FAN_IN_LINGER_MS = 20;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Decides what runs when: orchestrator episodes (never two of one instance at once) and activities,
 * each up to its limit; delayed messages (timers) once due; idle detection for waitForIdle and
 * skipIdleTime clocks.
 */
export class Dispatcher {
  readonly #ready = new Set<string>();
  readonly #running = new Set<string>();
  /** Instances that got messages while their episode ran: they run again when it ends. */
  readonly #dirty = new Set<string>();
  readonly #workQueue: WorkItemRow[] = [];
  readonly #inflight = new Set<Promise<void>>();
  #activeActivities = 0;
  /**
   * Work items and sub-orchestrations per instance not yet completed; a fan-in lingers until they drain
   * (or 20 ms pass), so fifty completions replay it a few times rather than fifty.
   */
  readonly #outstanding = new Map<string, number>();
  readonly #lingering = new Set<string>();
  #lingerTimer: NodeJS.Timeout | undefined;
  #started = false;
  #stopping = false;
  #pumpScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #armedDue = Infinity;
  /** Messages visible at or before this time have been handed out already. */
  #lastScan = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(
    private readonly store: DurableStore,
    private readonly clock: Clock,
    private readonly limits: DispatchLimits,
    private readonly handlers: DispatchHandlers,
  ) {}

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Picks up what the database holds (work left by a previous process too) and starts dispatching. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const now = this.clock.now();
    this.#lastScan = now;
    for (const item of this.store.q.allWorkItems.all()) this.#workQueue.push(item);
    for (const { instance_id } of this.store.q.instancesWithVisible.all(now)) this.#ready.add(instance_id);
    this.armTimer();
    this.#schedulePump();
  }

  /** Stops taking work and waits for in-flight episodes and activities. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#lingerTimer) clearTimeout(this.#lingerTimer);
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  waitForIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#schedulePump();
    });
  }

  /** The instance has new visible messages. */
  notify(id: string): void {
    if (this.#running.has(id)) this.#dirty.add(id);
    else this.#ready.add(id);
    this.#schedulePump();
  }

  /** Called by the instance's own episode when it left messages undelivered. */
  runAgain(id: string): void {
    this.#ready.add(id);
  }

  enqueueWork(item: WorkItemRow): void {
    this.#outstanding.set(item.instance_id, (this.#outstanding.get(item.instance_id) ?? 0) + 1);
    this.#workQueue.push(item);
    this.#schedulePump();
  }

  /** The instance's episode started `count` sub-orchestrations. */
  childrenStarted(instanceId: string, count: number): void {
    if (count === 0) return;
    this.#outstanding.set(instanceId, (this.#outstanding.get(instanceId) ?? 0) + count);
  }

  /** A sub-orchestration of `parentId` ended and its completion message was committed. */
  childFinished(parentId: string): void {
    this.activityFinished(parentId, true);
  }

  /** The instance continued as new or ended: what its earlier execution left in flight no longer counts. */
  forgetOutstanding(instanceId: string): void {
    this.#outstanding.delete(instanceId);
  }

  /** An activity of `instanceId` finished; `delivered` when its result message was committed. */
  activityFinished(instanceId: string, delivered: boolean): void {
    const left = (this.#outstanding.get(instanceId) ?? 1) - 1;
    if (left > 0) this.#outstanding.set(instanceId, left);
    else this.#outstanding.delete(instanceId);
    if (!delivered) return;
    if (left > 0) this.#linger(instanceId);
    else {
      this.#lingering.delete(instanceId);
      this.notify(instanceId);
    }
  }

  /** (Re)arms the wake-up for the earliest delayed message not yet handed out. */
  armTimer(): void {
    if (this.#stopping || !this.#started) return;
    const due = this.store.q.nextDue.get(this.#lastScan)?.due ?? null;
    if (due === null) return;
    if (due >= this.#armedDue && this.#timer) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#armedDue = due;
    this.#timer = setTimeout(() => this.#onTimer(), Math.min(this.clock.realDelayUntil(due), MAX_TIMEOUT_MS));
  }

  #schedulePump(): void {
    if (this.#pumpScheduled || !this.#started || this.#stopping) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #track(p: Promise<void>): void {
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  #pump(): void {
    if (this.#stopping) return;
    for (const id of this.#ready) {
      if (this.#running.size >= this.limits.maxOrchestrators) break;
      this.#ready.delete(id);
      if (this.#running.has(id)) {
        this.#dirty.add(id);
        continue;
      }
      this.#running.add(id);
      this.#track(
        this.handlers
          .runEpisode(id)
          .catch((err: unknown) =>
            this.handlers.log(`durable engine: episode of ${id} crashed: ${String(err)}`),
          )
          .finally(() => {
            this.#running.delete(id);
            if (this.#dirty.delete(id)) this.#ready.add(id);
            this.#schedulePump();
          }),
      );
    }
    while (this.#activeActivities < this.limits.maxActivities && this.#workQueue.length > 0) {
      const item = this.#workQueue.shift() as WorkItemRow;
      this.#activeActivities++;
      this.#track(
        this.handlers
          .runActivity(item)
          .catch((err: unknown) =>
            this.handlers.log(`durable engine: activity ${item.name} crashed: ${String(err)}`),
          )
          .finally(() => {
            this.#activeActivities--;
            this.#schedulePump();
          }),
      );
    }
    if (
      this.#running.size === 0 &&
      this.#activeActivities === 0 &&
      this.#ready.size === 0 &&
      this.#workQueue.length === 0 &&
      this.#lingering.size === 0
    ) {
      if (this.#armedDue !== Infinity && this.clock.skipTo?.(this.#armedDue) === true) {
        this.#onTimer();
        return;
      }
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  #onTimer(): void {
    if (this.#stopping) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedDue = Infinity;
    const now = this.clock.now();
    for (const { instance_id } of this.store.q.dueInstances.all(this.#lastScan, now))
      this.notify(instance_id);
    this.#lastScan = now;
    this.armTimer();
    this.#schedulePump();
  }

  /** Batches a fan-in's completions so it replays a few times, not once per activity. */
  #linger(id: string): void {
    this.#lingering.add(id);
    this.#lingerTimer ??= setTimeout(() => {
      this.#lingerTimer = undefined;
      const ids = [...this.#lingering];
      this.#lingering.clear();
      for (const l of ids) this.notify(l);
    }, FAN_IN_LINGER_MS);
  }
}
