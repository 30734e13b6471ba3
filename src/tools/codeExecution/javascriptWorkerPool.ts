import { Worker } from 'node:worker_threads';
import { sandboxWorkerMain } from './javascriptWorkerMain.js';
import type { WorkerData, WorkerOutcome, WorkerReply, WorkerRunMessage } from './javascriptWorkerProtocol.js';

interface PooledWorker {
  worker: Worker;
  calls: number;
}

/**
 * A bounded pool of sandbox worker threads, each running one call at a time. A watchdog
 * terminates a worker that overruns its hard limit; unhealthy workers are retired and replaced.
 */
export class SandboxWorkerPool {
  private readonly idle: PooledWorker[] = [];
  private readonly waiters: ((w: PooledWorker) => void)[] = [];
  private live = 0;
  private started = 0;
  private isClosed = false;

  constructor(
    private readonly poolSize: number,
    private readonly workerData: WorkerData,
  ) {}

  /** Runs one call on a pooled worker; resolves with no outcome if the watchdog had to terminate it. */
  async run(message: WorkerRunMessage, hardLimitMs: number): Promise<WorkerOutcome | undefined> {
    const pooled = await this.acquire();
    const { outcome, healthy } = await this.dispatch(pooled, message, hardLimitMs);
    this.release(pooled, healthy);
    return outcome;
  }

  /** Sends one call; resolves with no outcome if the watchdog had to terminate the worker. */
  private dispatch(
    pooled: PooledWorker,
    message: WorkerRunMessage,
    hardLimitMs: number,
  ): Promise<{ outcome?: WorkerOutcome; healthy: boolean }> {
    const { worker } = pooled;
    pooled.calls++;
    return new Promise((resolve) => {
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (reply: WorkerReply) => {
        if (reply.id !== message.id) return;
        cleanup();
        resolve({ outcome: reply.outcome, healthy: !reply.fatal });
      };
      const onError = (error: Error & { code?: string }) => {
        cleanup();
        const oom = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
        resolve({
          outcome: {
            ok: false,
            errorKind: oom ? 'out_of_memory' : 'runtime_error',
            errorMessage: oom
              ? 'Out of memory: the sandbox worker was stopped.'
              : `The sandbox crashed: ${error.message}`,
            stdout: '',
            stderr: '',
            files: [],
            truncated: false,
          },
          healthy: false,
        });
      };
      const onExit = () => onError(new Error('the sandbox worker exited'));
      const timer = setTimeout(() => {
        cleanup();
        void worker.terminate();
        resolve({ healthy: false });
      }, hardLimitMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(message);
    });
  }

  private spawn(): PooledWorker {
    this.live++;
    this.started++;
    const worker = new Worker(`(${sandboxWorkerMain.toString()})()`, {
      eval: true,
      workerData: this.workerData,
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    worker.unref();
    return { worker, calls: 0 };
  }

  private acquire(): Promise<PooledWorker> {
    const idle = this.idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.live < this.poolSize) return Promise.resolve(this.spawn());
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(pooled: PooledWorker, healthy: boolean): void {
    if (!healthy || this.isClosed) {
      this.live--;
      void pooled.worker.terminate();
      const waiter = this.waiters.shift();
      if (waiter && !this.isClosed) waiter(this.spawn());
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(pooled);
    else this.idle.push(pooled);
  }

  /** Workers currently alive (idle or busy). */
  get liveWorkers(): number {
    return this.live;
  }

  /** Workers created so far. */
  get workersStarted(): number {
    return this.started;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Starts one worker ahead of the first call (optional; the first call otherwise pays for it). */
  warm(): Promise<void> {
    if (this.idle.length > 0 || this.live >= this.poolSize) return Promise.resolve();
    this.idle.push(this.spawn());
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.isClosed = true;
    const idle = this.idle.splice(0);
    this.live -= idle.length;
    await Promise.all(idle.map((p) => p.worker.terminate()));
  }
}
