/** Time source for the durable engine: OrchestratorStarted timestamps, timer due times, created/updated times. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /** Real milliseconds to wait until `dueMs` (virtual time) is reached. */
  realDelayUntil(dueMs: number): number;
  /** Jumps time forward to `dueMs` when idle; clocks that cannot skip return false. */
  skipTo?(dueMs: number): boolean;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  realDelayUntil(dueMs: number): number {
    return Math.max(0, dueMs - Date.now());
  }
}

export interface VirtualClockOptions {
  /** Virtual time runs this many times faster than real time (default 1). */
  timeScale?: number;
  /** When the engine is idle, jump to the next due timer (default false). */
  skipIdleTime?: boolean;
  /** Virtual start time in epoch ms (default: now). */
  startMs?: number;
}

/** Virtual time = start + realElapsed × timeScale + skipped. */
export class VirtualClock implements Clock {
  readonly #scale: number;
  readonly #skip: boolean;
  readonly #realStart = performance.now();
  readonly #virtualStart: number;
  #skipped = 0;

  constructor(options: VirtualClockOptions = {}) {
    this.#scale = options.timeScale ?? 1;
    if (!(this.#scale > 0))
      throw new Error(`VirtualClock timeScale must be > 0, got ${String(options.timeScale)}`);
    this.#skip = options.skipIdleTime ?? false;
    this.#virtualStart = options.startMs ?? Date.now();
  }

  now(): number {
    return Math.floor(
      this.#virtualStart + (performance.now() - this.#realStart) * this.#scale + this.#skipped,
    );
  }

  realDelayUntil(dueMs: number): number {
    return Math.max(0, Math.ceil((dueMs - this.now()) / this.#scale));
  }

  skipTo(dueMs: number): boolean {
    if (!this.#skip) return false;
    const now = this.now();
    if (dueMs > now) this.#skipped += dueMs - now;
    return true;
  }
}

/** `yyyy-MM-ddTHH:mm:ssZ`, the extension's status time format. */
export function formatStatusTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

/** .NET TimeSpan text `d.hh:mm:ss`, as the extension sends timer durations. */
export function formatTimeSpan(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const days = Math.floor(totalSeconds / 86400);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const h = Math.floor((totalSeconds % 86400) / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return `${days}.${pad(h)}:${pad(m)}:${pad(s)}`;
}
