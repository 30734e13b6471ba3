/** Message-level rules of the Storage Queues extension: queue names, base64, metadata dates, backoff. */
import type { TypedData } from '../functions/types.js';
import type { Env } from './connection.js';

/** Resolve `%Setting%` tokens, lower-case, and validate like the host's queue name check. */
export function resolveQueueName(raw: unknown, functionName: string, env: Env): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new Error(`Function "${functionName}": the queue trigger has no queueName.`);
  }
  const name = raw
    .replace(/%([^%]+)%/g, (_token, setting: string) => {
      const value = env[setting];
      if (value === undefined)
        throw new Error(`Function "${functionName}": queueName uses %${setting}%, which is not set.`);
      return value;
    })
    .toLowerCase();
  if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(name)) {
    throw new Error(
      `Function "${functionName}": "${name}" is not a valid queue name (3-63 chars of a-z, 0-9 and single hyphens, ` +
        `starting and ending with a letter or digit).`,
    );
  }
  return name;
}

/** Decode like .NET Convert.FromBase64String (whitespace ignored, strict alphabet and padding). */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const compact = text.replace(/[ \t\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/** Date as the host serializes DateTimeOffset into trigger metadata (Newtonsoft: `...+00:00`). */
export function dotnetDate(date: Date | undefined): TypedData {
  if (date === undefined) return undefined;
  return { json: JSON.stringify(date.toISOString().replace(/(\.000)?Z$/, '+00:00')) };
}

export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** RandomizedExponentialBackoffStrategy: min after activity, then min + rand(0.8-1.2)·min·2^(n-1), capped. */
export class Backoff {
  #current = 0;
  #exponent = 1;
  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}
  next(foundSinceLastDelay: boolean): number {
    if (foundSinceLastDelay || this.#current === 0) {
      this.#current = this.minMs;
      this.#exponent = 1;
    } else if (this.#current !== this.maxMs) {
      const step = (0.8 + Math.random() * 0.4) * 2 ** (this.#exponent - 1) * this.minMs;
      const candidate = this.minMs + step;
      if (candidate < this.maxMs) {
        this.#current = candidate;
        this.#exponent++;
      } else {
        this.#current = this.maxMs;
      }
    }
    return Math.round(this.#current);
  }
}
