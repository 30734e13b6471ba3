/**
 * Timer triggers: NCRONTAB schedules (`{second} {minute} {hour} {day} {month} {day-of-week}`, or five
 * fields without seconds) and TimeSpan schedules (`hh:mm:ss`), in UTC, with `runOnStartup` and the
 * TimerInfo payload the host sends (`{Schedule, ScheduleStatus, IsPastDue}`, camel-cased by the library).
 */
import type { FunctionInvoker, FunctionRegistration } from './functions/types.js';
import type { StorageLog } from './storage/azurite.js';
import type { Env } from './storage/connection.js';
import { parseTimeSpan } from './storage/queueOptions.js';

export interface Schedule {
  readonly kind: 'cron' | 'timespan';
  readonly expression: string;
  /** What the host reports as `schedule.adjustForDST` (true for cron, false for TimeSpan). */
  readonly adjustForDST: boolean;
  /** The first occurrence strictly after `after`. */
  nextAfter(after: Date): Date;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 0, max: 6, names: DAYS },
];

function parseValue(text: string, spec: FieldSpec, expression: string): number {
  const index = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  const value =
    index >= 0 ? index + (spec.name === 'month' ? 1 : 0) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(value) || value < spec.min || value > spec.max) {
    throw new Error(
      `Invalid schedule "${expression}": ${spec.name} value "${text}" is not in ${spec.min}-${spec.max}.`,
    );
  }
  return value;
}

/** One NCRONTAB field → the set of allowed values. `a/n` runs from a to the field maximum (NCrontab). */
function parseField(text: string, spec: FieldSpec, expression: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText, extra] = part.split('/');
    if (extra !== undefined || range === '')
      throw new Error(`Invalid schedule "${expression}": bad ${spec.name} field "${text}".`);
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) ? Number(stepText) : 0;
    if (step < 1)
      throw new Error(`Invalid schedule "${expression}": bad ${spec.name} step "${stepText ?? ''}".`);
    let first: number;
    let last: number;
    if (range === '*') {
      first = spec.min;
      last = spec.max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      first = parseValue(a, spec, expression);
      last = parseValue(b, spec, expression);
      if (last < first)
        throw new Error(`Invalid schedule "${expression}": ${spec.name} range "${range}" is reversed.`);
    } else {
      first = parseValue(range, spec, expression);
      last = stepText === undefined ? first : spec.max;
    }
    for (let v = first; v <= last; v += step) values.add(v);
  }
  return values;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SEARCH_LIMIT_MS = 10 * 366 * DAY;

/** Parse an NCRONTAB expression (6 fields with seconds, or 5 fields meaning second 0). UTC. */
export function parseCron(expression: string): Schedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length === 5) parts.unshift('0');
  if (parts.length !== 6) {
    throw new Error(
      `Invalid schedule "${expression}": expected 6 fields "{second} {minute} {hour} {day} {month} {day-of-week}".`,
    );
  }
  const [seconds, minutes, hours, days, months, weekdays] = FIELDS.map((spec, i) =>
    parseField(parts[i] ?? '', spec, expression),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const nextAfter = (after: Date): Date => {
    let t = Math.floor(after.getTime() / SECOND) * SECOND + SECOND;
    const limit = t + SEARCH_LIMIT_MS;
    while (t < limit) {
      const d = new Date(t);
      if (!months.has(d.getUTCMonth() + 1)) {
        t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      } else if (!days.has(d.getUTCDate()) || !weekdays.has(d.getUTCDay())) {
        t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      } else if (!hours.has(d.getUTCHours())) {
        t = Math.floor(t / HOUR) * HOUR + HOUR;
      } else if (!minutes.has(d.getUTCMinutes())) {
        t = Math.floor(t / MINUTE) * MINUTE + MINUTE;
      } else if (!seconds.has(d.getUTCSeconds())) {
        t += SECOND;
      } else {
        return d;
      }
    }
    throw new Error(`Schedule "${expression}" has no occurrence within 10 years of ${after.toISOString()}.`);
  };
  return { kind: 'cron', expression, adjustForDST: true, nextAfter };
}

/**
 * Parse a timer schedule: TimeSpan (`hh:mm:ss`) or NCRONTAB, as TimerSchedule.Create accepts.
 * `%Setting%` is replaced from app settings first.
 */
export function parseSchedule(expression: string, env: Env = process.env): Schedule {
  const resolved = expression.replace(/%([^%]+)%/g, (_t, name: string) => {
    const value = env[name];
    if (value === undefined)
      throw new Error(`Invalid schedule "${expression}": app setting ${name} is not set.`);
    return value;
  });
  const interval = parseTimeSpan(resolved);
  if (interval !== undefined) {
    if (interval <= 0) throw new Error(`Invalid schedule "${expression}": the TimeSpan must be positive.`);
    return {
      kind: 'timespan',
      expression: resolved,
      adjustForDST: false,
      nextAfter: (after) => new Date(after.getTime() + interval),
    };
  }
  return parseCron(resolved);
}

/** The next `count` occurrences after `from` (for logs and tests). */
export function nextOccurrences(schedule: Schedule, from: Date, count: number): Date[] {
  const result: Date[] = [];
  let t = from;
  for (let i = 0; i < count; i++) result.push((t = schedule.nextAfter(t)));
  return result;
}

/** What the host's TimerInfo serializes to (PascalCase; the library camel-cases it for the handler). */
export interface TimerInfoPayload {
  Schedule: { AdjustForDST: boolean };
  ScheduleStatus: { Last: string; Next: string; LastUpdated: string };
  IsPastDue: boolean;
}

export interface TimerTriggerHostOptions {
  invoker: FunctionInvoker;
  log: StorageLog;
  env?: Env;
  /** Clock; default `() => new Date()`. */
  now?: () => Date;
}

export interface TimerTriggerHost {
  readonly timers: readonly { functionName: string; schedule: Schedule; next(): Date | undefined }[];
  stop(): Promise<void>;
}

/** DateTime.MinValue as the host serializes a never-run ScheduleStatus.Last. */
const NEVER = '0001-01-01T00:00:00';
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export function isTimerTrigger(registration: FunctionRegistration): boolean {
  return registration.triggerType.toLowerCase() === 'timertrigger';
}

class TimerListener {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;
  #next: Date | undefined;
  #last = NEVER;
  #lastUpdated: string;

  constructor(
    readonly functionName: string,
    readonly schedule: Schedule,
    private readonly runOnStartup: boolean,
    private readonly options: TimerTriggerHostOptions & { now: () => Date },
  ) {
    this.#lastUpdated = options.now().toISOString();
  }

  next(): Date | undefined {
    return this.#next;
  }

  start(): void {
    if (this.runOnStartup) this.#running = this.#fire(this.options.now()).then(() => this.#arm());
    else this.#arm();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #arm(): void {
    if (this.#stopped) return;
    const now = this.options.now();
    const next = this.schedule.nextAfter(now);
    this.#next = next;
    const wait = (): void => {
      const remaining = next.getTime() - this.options.now().getTime();
      if (remaining > 0) {
        this.#timer = setTimeout(wait, Math.min(remaining, MAX_TIMEOUT_MS));
        return;
      }
      this.#running = this.#fire(next).then(() => this.#arm());
    };
    this.#timer = setTimeout(wait, Math.min(Math.max(next.getTime() - now.getTime(), 0), MAX_TIMEOUT_MS));
  }

  async #fire(occurrence: Date): Promise<void> {
    if (this.#stopped) return;
    const payload: TimerInfoPayload = {
      Schedule: { AdjustForDST: this.schedule.adjustForDST },
      ScheduleStatus: { Last: this.#last, Next: occurrence.toISOString(), LastUpdated: this.#lastUpdated },
      IsPastDue: false,
    };
    try {
      await this.options.invoker.invoke(this.functionName, {
        trigger: { json: JSON.stringify(payload) },
        logContext: `timer, next=${occurrence.toISOString()}`,
      });
    } catch {
      // The invoker has logged the failure; a failed run does not stop the schedule.
    }
    this.#last = occurrence.toISOString();
    this.#lastUpdated = this.options.now().toISOString();
  }
}

/**
 * Start one timer per timer-triggered function. Occurrences never overlap: the next one is computed
 * after the previous invocation finishes (missed occurrences are skipped, as in the host).
 * @throws Error naming the function when its schedule is invalid.
 */
export function startTimerTriggers(options: TimerTriggerHostOptions): TimerTriggerHost {
  const env = options.env ?? process.env;
  const resolved = { ...options, now: options.now ?? (() => new Date()) };
  const timeZone = env.WEBSITE_TIME_ZONE ?? env.TZ;
  if (timeZone !== undefined && !/^(utc|etc\/utc|gmt|utc0?)$/i.test(timeZone.trim())) {
    options.log(
      'warning',
      `Timer schedules run in UTC on devhost; WEBSITE_TIME_ZONE/TZ "${timeZone}" is ignored.`,
    );
  }
  const timers: TimerListener[] = [];
  for (const registration of options.invoker.registrations.values()) {
    if (!isTimerTrigger(registration)) continue;
    const raw = registration.trigger.schedule;
    if (typeof raw !== 'string')
      throw new Error(`Function "${registration.name}": the timer trigger has no schedule.`);
    let schedule: Schedule;
    try {
      schedule = parseSchedule(raw, env);
    } catch (error) {
      throw new Error(
        `Function "${registration.name}": ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    timers.push(
      new TimerListener(registration.name, schedule, registration.trigger.runOnStartup === true, resolved),
    );
  }
  for (const timer of timers) {
    timer.start();
    const next = timer.next();
    options.log(
      'information',
      `Function '${timer.functionName}' runs on schedule "${timer.schedule.expression}"${next ? `; next ${next.toISOString()}` : ''}.`,
    );
  }
  return { timers, stop: async () => void (await Promise.all(timers.map((t) => t.stop()))) };
}
