/**
 * The host's side of the language workers: a FunctionInvoker whose invocations run in worker threads
 * (languageWorker.ts), each with its own copy of the app, as the Functions host runs
 * FUNCTIONS_WORKER_PROCESS_COUNT Node workers. An invocation goes to the least busy worker; orchestrator
 * episodes can go to any, since every episode carries its whole history. When a worker dies, its
 * in-flight invocations fail and a new worker loads the app again, as the host restarts a crashed worker.
 */
import { randomUUID } from 'node:crypto';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { logExecution } from './invoker.js';
import type {
  FunctionInvoker,
  FunctionRegistration,
  InvocationInput,
  InvocationOutput,
  LogLevel,
} from './types.js';
import { workerScript } from '../workerScript.js';
import { SentPrefixes } from './triggerPrefix.js';
import { errorFromData, type HostMessage, type WorkerMessage } from './workerProtocol.js';

interface Pending {
  resolve(output: InvocationOutput): void;
  reject(error: Error): void;
  logSink?: (level: LogLevel, message: string) => void;
}

interface Slot {
  /** Undefined while a replacement for a dead worker loads the app; `restarted` settles then. */
  worker: Worker | undefined;
  restarted?: Promise<void>;
  readonly pending: Map<number, Pending>;
  /** Trigger prefixes this slot's worker holds (triggerPrefix.ts); emptied when the worker dies. */
  readonly prefixes: SentPrefixes;
}

type Settings = Extract<HostMessage, { type: 'settings' }>;

export interface WorkerInvokerOptions {
  /** How many worker threads; each loads the app. */
  count: number;
  log: (level: LogLevel, message: string) => void;
}

export class WorkerInvoker implements FunctionInvoker {
  readonly #slots: Slot[];
  #nextId = 1;
  #settings: Settings = { type: 'settings', functionTimeoutMs: undefined, durableClientPayload: undefined };
  #stopping = false;

  private constructor(
    private readonly appDir: string,
    readonly registrations: ReadonlyMap<string, FunctionRegistration>,
    workers: Worker[],
    private readonly options: WorkerInvokerOptions,
  ) {
    this.#slots = workers.map((worker) => {
      const slot: Slot = { worker, pending: new Map(), prefixes: new SentPrefixes() };
      this.#attach(slot, worker);
      return slot;
    });
  }

  /** Loads the app in `count` new worker threads; rejects with the app's own load error. */
  static async start(appDir: string, options: WorkerInvokerOptions): Promise<WorkerInvoker> {
    const first = await spawnWorker(appDir, options.log);
    // The first load reports the app's registrations and load errors; the others are copies of it.
    const others = await Promise.all(
      Array.from({ length: Math.max(0, options.count - 1) }, () => spawnWorker(appDir, () => {})),
    );
    return new WorkerInvoker(
      appDir,
      new Map(first.registrations.map((registration) => [registration.name, registration])),
      [first.worker, ...others.map((other) => other.worker)],
      options,
    );
  }

  get functionTimeoutMs(): number | undefined {
    return this.#settings.functionTimeoutMs;
  }

  set functionTimeoutMs(value: number | undefined) {
    this.#updateSettings({ ...this.#settings, functionTimeoutMs: value });
  }

  get durableClientPayload(): unknown {
    return this.#settings.durableClientPayload;
  }

  set durableClientPayload(value: unknown) {
    this.#updateSettings({ ...this.#settings, durableClientPayload: value });
  }

  /** Runs the function in the least busy worker and logs its Executed line when it comes back. */
  invoke(functionName: string, input: InvocationInput): Promise<InvocationOutput> {
    const withId = { ...input, invocationId: input.invocationId ?? randomUUID() };
    return logExecution(functionName, withId, this.options.log, () =>
      this.#invokeInWorker(functionName, withId),
    );
  }

  async #invokeInWorker(functionName: string, input: InvocationInput): Promise<InvocationOutput> {
    const id = this.#nextId++;
    const { logSink, triggerPrefix, ...data } = input;
    const live = this.#slots.filter((s) => s.worker !== undefined);
    // The least busy worker; among equally busy ones, one that holds the trigger's prefix.
    const holds = (s: Slot) => (triggerPrefix !== undefined && s.prefixes.has(triggerPrefix.key) ? 0 : 1);
    const slot = (live.length > 0 ? live : this.#slots).reduce((best, s) =>
      s.pending.size < best.pending.size || (s.pending.size === best.pending.size && holds(s) < holds(best))
        ? s
        : best,
    );
    if (slot.worker === undefined) await slot.restarted;
    const target = slot.worker;
    if (target === undefined)
      throw new Error('The language worker could not be restarted; see the host log.');
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, ...(logSink ? { logSink } : {}) });
      const json = data.trigger !== undefined && 'json' in data.trigger ? data.trigger.json : undefined;
      const message: HostMessage =
        triggerPrefix !== undefined && json !== undefined
          ? {
              type: 'invoke',
              id,
              functionName,
              input: { ...data, trigger: undefined },
              withLogSink: !!logSink,
              prefixed: slot.prefixes.send(json, triggerPrefix.key, triggerPrefix.chars),
            }
          : { type: 'invoke', id, functionName, input: data, withLogSink: !!logSink };
      try {
        target.postMessage(message);
      } catch (error) {
        slot.pending.delete(id);
        // The worker never got it: it must not be asked to reuse what this message would have kept.
        if (triggerPrefix !== undefined) slot.prefixes.forget(triggerPrefix.key);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  forgetTriggerPrefix(key: string): void {
    for (const slot of this.#slots) slot.prefixes.forget(key);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#slots.flatMap((slot) => (slot.worker ? [slot.worker.terminate()] : [])));
  }

  #updateSettings(settings: Settings): void {
    this.#settings = settings;
    for (const slot of this.#slots) slot.worker?.postMessage(settings);
  }

  #attach(slot: Slot, worker: Worker): void {
    worker.on('message', (message: WorkerMessage) => this.#onMessage(slot, message));
    worker.on('error', (error) =>
      this.options.log('error', `Language worker error: ${error.stack ?? error.message}`),
    );
    worker.once('exit', (code) => {
      slot.worker = undefined;
      slot.prefixes.clear();
      const pending = [...slot.pending.values()];
      slot.pending.clear();
      const error = new Error(`The language worker exited (code ${code}) during the invocation.`);
      for (const p of pending) p.reject(error);
      if (this.#stopping) return;
      this.options.log('error', `The language worker exited (code ${code}); starting a new one.`);
      slot.restarted = this.#restart(slot);
    });
  }

  async #restart(slot: Slot): Promise<void> {
    try {
      const { worker } = await spawnWorker(this.appDir, this.options.log);
      if (this.#stopping) {
        await worker.terminate();
        return;
      }
      slot.worker = worker;
      this.#attach(slot, worker);
      worker.postMessage(this.#settings);
    } catch (error) {
      this.options.log('error', `The language worker could not be restarted: ${String(error)}`);
    }
  }

  #onMessage(slot: Slot, message: WorkerMessage): void {
    switch (message.type) {
      case 'log': {
        const sink = message.id === undefined ? undefined : slot.pending.get(message.id)?.logSink;
        (sink ?? this.options.log)(message.level, message.message);
        return;
      }
      case 'result':
        this.#settle(slot, message.id)?.resolve(message.output);
        return;
      case 'error':
        this.#settle(slot, message.id)?.reject(errorFromData(message.error));
        return;
      default:
        return;
    }
  }

  #settle(slot: Slot, id: number): Pending | undefined {
    const pending = slot.pending.get(id);
    slot.pending.delete(id);
    return pending;
  }
}

const WORKER_SCRIPT = workerScript(__filename, 'languageWorker');

async function spawnWorker(
  appDir: string,
  log: (level: LogLevel, message: string) => void,
): Promise<{ worker: Worker; registrations: FunctionRegistration[] }> {
  // SHARE_ENV: the app settings the host applies (and WEBSITE_HOSTNAME) are the app's environment too.
  const worker = new Worker(WORKER_SCRIPT, {
    workerData: { appDir },
    env: SHARE_ENV,
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new Error(`The language worker exited (code ${code}) while loading the app.`));
    const onMessage = (message: WorkerMessage) => {
      if (message.type === 'log') log(message.level, message.message);
      else if (message.type === 'ready') {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve({ worker, registrations: message.registrations });
      } else if (message.type === 'loadFailed') {
        worker.off('exit', onExit);
        void worker.terminate();
        reject(errorFromData(message.error));
      }
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
}
