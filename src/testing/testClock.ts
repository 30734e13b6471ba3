/**
 * The harness's durable clock: real time plus whatever the test fast-forwarded. It implements devhost's
 * `Clock` (devhost/durable/clock.ts): the engine asks `skipTo(due)` whenever nothing can run and a timer
 * is armed (devhost/durable/dispatcher.ts `#pump`), and fires the timer when the answer is true.
 *
 * - `advance(ms)` moves time forward at once; every timer now due fires at the engine's next idle moment.
 * - `autoSkip` (off by default) jumps to the next timer whenever the engine is idle, as devhost's
 *   `--skip-idle-time` does: retry back-offs and timeouts pass at once, but an approval step then times
 *   out before a test can answer it, which is why it is off unless asked for.
 */
import type { Clock } from '../../devhost/host.js';
import { parseIsoDuration } from '../shared/duration.js';

export class TestClock implements Clock {
  #offsetMs = 0;
  autoSkip: boolean;

  constructor(options: { autoSkip?: boolean; startMs?: number } = {}) {
    this.autoSkip = options.autoSkip ?? false;
    if (options.startMs !== undefined) this.#offsetMs = options.startMs - Date.now();
  }

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  realDelayUntil(dueMs: number): number {
    return Math.max(0, dueMs - this.now());
  }

  /** True fires the engine's earliest timer: when it is due already, or always under `autoSkip`. */
  skipTo(dueMs: number): boolean {
    const now = this.now();
    if (dueMs <= now) return true;
    if (!this.autoSkip) return false;
    this.#offsetMs += dueMs - now;
    return true;
  }

  /** Moves time forward by `by`: milliseconds or an ISO-8601 duration such as `PT30M` or `P1D`. */
  advance(by: number | string): number {
    const ms = typeof by === 'number' ? by : parseIsoDuration(by);
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
      throw new Error(
        `advance(${JSON.stringify(by)}): give milliseconds (>= 0) or an ISO-8601 duration such as "PT30M" or "P1D"`,
      );
    }
    this.#offsetMs += ms;
    return ms;
  }
}
