/**
 * Sending an orchestrator episode's replay payload to the language worker thread without copying the
 * part the worker already has. Every episode carries the orchestration's whole history (the Functions
 * host sends it whole to the Node worker on every episode, and durable-functions replays it), so over a
 * long sequence the host thread would copy the same, ever longer, prefix across threads again and again.
 *
 * The caller marks a stable prefix of the trigger's JSON text (`InvocationInput.triggerPrefix`): the
 * first `chars` characters, under `key`, begin every later payload sent under the same key. The host
 * side remembers, per worker, how much of each key that worker holds (`SentPrefixes`) and sends only the
 * rest; the worker (`HeldPrefixes`) puts the text back together before the invocation starts, so the app
 * and durable-functions receive exactly the bytes they would without this, and the wire meter
 * (durable/wireMeter.ts) still counts the whole payload. Messages to one worker arrive in order and are
 * handled one at a time, so a prefix is always stored before a later message reuses it.
 */

/** Characters (UTF-16 code units) of held prefixes per worker before the least recently used are dropped. */
export const DEFAULT_PREFIX_BUDGET_CHARS = 32 * 1024 * 1024;

/** How the host sends one trigger text: `rest` after the `reuse` characters the worker holds under `key`. */
export interface PrefixedText {
  key: string;
  /** Characters of the held prefix that begin the text (0: none). */
  reuse: number;
  rest: string;
  /** After putting the text together, hold its first `keep` characters under `key` (0: keep what is held). */
  keep: number;
  /** Keys the worker can drop (evicted or forgotten on the host side). */
  drop: string[];
}

/** The host side, one per worker: which prefixes that worker holds, least recently used first. */
export class SentPrefixes {
  readonly #held = new Map<string, number>();
  #total = 0;
  #dropped: string[] = [];

  constructor(private readonly budgetChars = DEFAULT_PREFIX_BUDGET_CHARS) {}

  /** Splits `text` for the worker, and records that it will hold `chars` characters of it under `key`. */
  send(text: string, key: string, chars: number): PrefixedText {
    const held = this.#held.get(key) ?? 0;
    const reuse = held <= chars && held <= text.length ? held : 0;
    const keep = chars > reuse && chars <= text.length ? chars : 0;
    this.#held.delete(key);
    this.#total -= held;
    const now = keep > 0 ? keep : reuse;
    if (now > 0) {
      this.#held.set(key, now);
      this.#total += now;
    }
    if (reuse === 0 && held > 0) this.#dropped.push(key);
    for (const [old, size] of this.#held) {
      if (this.#total <= this.budgetChars || old === key) break;
      this.#held.delete(old);
      this.#total -= size;
      this.#dropped.push(old);
    }
    const drop = this.#dropped;
    this.#dropped = [];
    return { key, reuse, rest: reuse > 0 ? text.slice(reuse) : text, keep, drop };
  }

  /** The key will not be sent again: the worker drops it with the next message. */
  forget(key: string): void {
    const held = this.#held.get(key);
    if (held === undefined) return;
    this.#held.delete(key);
    this.#total -= held;
    this.#dropped.push(key);
  }

  /** The worker is gone, and what it held with it. */
  clear(): void {
    this.#held.clear();
    this.#total = 0;
    this.#dropped = [];
  }

  has(key: string): boolean {
    return this.#held.has(key);
  }

  get heldChars(): number {
    return this.#total;
  }
}

/** The worker side: the prefixes it holds, and the text put back together. */
export class HeldPrefixes {
  readonly #held = new Map<string, string>();

  /** The whole text the host split; throws if the host reuses a prefix this worker does not hold. */
  join(sent: PrefixedText): string {
    for (const key of sent.drop) this.#held.delete(key);
    let text = sent.rest;
    if (sent.reuse > 0) {
      const held = this.#held.get(sent.key);
      if (held === undefined || held.length !== sent.reuse)
        throw new Error(
          `language worker: the host reused ${sent.reuse} characters held under ${sent.key}, but this worker holds ${held?.length ?? 'none'}`,
        );
      text = held + sent.rest;
    }
    if (sent.keep > 0) this.#held.set(sent.key, text.slice(0, sent.keep));
    return text;
  }

  get size(): number {
    return this.#held.size;
  }
}
