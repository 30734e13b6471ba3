import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LogLevel } from './types.js';

/** As `func start` does: local.settings.json Values become environment variables unless already set. */
export function applyLocalSettings(appDir: string, log: (level: LogLevel, message: string) => void): void {
  const file = path.join(appDir, 'local.settings.json');
  if (!existsSync(file)) return;
  let values: unknown;
  try {
    values = (JSON.parse(readFileSync(file, 'utf8')) as { Values?: unknown }).Values;
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (values === undefined) return;
  if (typeof values !== 'object' || values === null) throw new Error(`${file}: "Values" must be an object.`);
  for (const [key, value] of Object.entries(values)) {
    if (typeof value !== 'string') throw new Error(`${file}: Values.${key} must be a string.`);
    if (process.env[key] === undefined) process.env[key] = value;
  }
  log('information', `Loaded app settings from ${file}`);
}
