import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/** A credential that never prints: `String()`, JSON and `util.inspect` all show `[redacted]`. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The raw value, for the one place that hands it to an SDK client. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

const CREDENTIAL_PATTERNS: readonly RegExp[] = [
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/g,
  /((?:api[-_]?key|x-api-key|access[-_]?token|authorization)["']?\s*[:=]\s*["']?)[^\s"',;]{6,}/gi,
];

/**
 * Removes known secret values and anything shaped like a credential (bearer tokens, `sk-` keys, JWTs,
 * `api-key=...`) from text that may reach logs, errors or activity history.
 */
export function redactSecrets(text: string, secrets: readonly Secret[] = []): string {
  let redacted = text;
  for (const secret of secrets) {
    const value = secret.reveal();
    if (value.length >= 4) redacted = redacted.split(value).join(REDACTED);
  }
  for (const pattern of CREDENTIAL_PATTERNS) {
    redacted = redacted.replace(pattern, (_match, prefix: unknown) =>
      typeof prefix === 'string' && /[:=]/.test(prefix) ? `${prefix}${REDACTED}` : REDACTED,
    );
  }
  return redacted;
}
