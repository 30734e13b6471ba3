import { z } from 'zod';
import { Secret } from '../models/secret.js';
import type { Env } from './section.js';

/**
 * The models section's reader: its settings are families (`MODEL_ROLE_<ROLE>`, `*_USE_ENTRA` per provider)
 * and cross-checks between providers that a fixed zod object cannot name, so each value is checked as it is
 * read (zod for URLs) and problems are collected so one startup error lists every bad setting.
 */
export class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  text(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  keys(): string[] {
    return Object.keys(this.env).filter((key) => this.text(key) !== undefined);
  }

  secret(name: string): Secret | undefined {
    const value = this.text(name);
    return value === undefined ? undefined : new Secret(value);
  }

  flag(name: string): boolean {
    const value = this.text(name)?.toLowerCase();
    if (value === undefined || value === 'false' || value === '0') return false;
    if (value === 'true' || value === '1') return true;
    this.problems.push(`${name} must be "true" or "false" (got ${JSON.stringify(value)})`);
    return false;
  }

  choice<T extends string>(name: string, options: readonly T[], fallback: T): T {
    const value = this.text(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if ((options as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name} must be one of ${options.join(', ')} (got ${JSON.stringify(value)})`);
    return fallback;
  }

  url(name: string): string | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    const parsed = z.url({ protocol: /^https?$/ }).safeParse(value);
    if (parsed.success) return value;
    this.problems.push(
      `${name} must be an http(s) URL, e.g. https://myres.openai.azure.com (got ${JSON.stringify(value.replace(/\/\/[^/@]*@/, '//[redacted]@'))})`,
    );
    return undefined;
  }

  integer(name: string, min: number, max: number, fallback: number): number {
    const value = this.text(name);
    if (value === undefined) return fallback;
    const number = Number(value);
    if (Number.isInteger(number) && number >= min && number <= max) return number;
    this.problems.push(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
    return fallback;
  }
}
