import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/** Same layout as the keys the Functions host keeps for an app (one default function key). */
export interface HostKeys {
  masterKey: string;
  functionKeys: { default: string } & Record<string, string>;
  systemKeys: { durabletask_extension: string } & Record<string, string>;
}

export type AuthLevel = 'anonymous' | 'function' | 'admin';

const KeysFile = z.object({
  masterKey: z.string().min(1),
  functionKeys: z.looseObject({ default: z.string().min(1) }),
  systemKeys: z.looseObject({ durabletask_extension: z.string().min(1) }),
});

export const KEYS_FILE_NAME = 'keys.json';

function newKey(): string {
  return randomBytes(30).toString('base64url');
}

export function generateKeys(): HostKeys {
  return {
    masterKey: newKey(),
    functionKeys: { default: newKey() },
    systemKeys: { durabletask_extension: newKey() },
  };
}

/**
 * Loads `<stateDir>/keys.json`, creating it with random keys on first start. Environment values
 * (DEVHOST_MASTER_KEY, DEVHOST_FUNCTION_KEY, DEVHOST_SYSTEM_KEY) win over the file and are not
 * written back, so a CI secret never lands on disk.
 */
export async function loadOrCreateKeys(
  stateDir: string,
  env: Record<string, string | undefined> = process.env,
): Promise<HostKeys> {
  const file = path.join(stateDir, KEYS_FILE_NAME);
  let keys: HostKeys;
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text === undefined) {
    keys = generateKeys();
    await mkdir(stateDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, file);
  } else {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`${file} is not valid JSON (${(error as Error).message}); fix or delete it.`, {
        cause: error,
      });
    }
    const parsed = KeysFile.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new Error(`${file} is invalid (${issues}); fix or delete it.`);
    }
    keys = parsed.data as HostKeys;
  }
  return applyEnvOverrides(keys, env);
}

export function applyEnvOverrides(keys: HostKeys, env: Record<string, string | undefined>): HostKeys {
  const pick = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  return {
    masterKey: pick('DEVHOST_MASTER_KEY') ?? keys.masterKey,
    functionKeys: {
      ...keys.functionKeys,
      default: pick('DEVHOST_FUNCTION_KEY') ?? keys.functionKeys.default,
    },
    systemKeys: {
      ...keys.systemKeys,
      durabletask_extension: pick('DEVHOST_SYSTEM_KEY') ?? keys.systemKeys.durabletask_extension,
    },
  };
}

/** Compares digests so neither the content nor the length of a key leaks through timing. */
export function constantTimeEquals(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

function matchesAny(presented: string, candidates: readonly string[]): boolean {
  let ok = false;
  // No early exit: every candidate is compared.
  for (const candidate of candidates) ok = constantTimeEquals(presented, candidate) || ok;
  return ok;
}

/** The key from `x-functions-key`, else the `code` query parameter, as the Functions host reads it. */
export function presentedKey(
  headers: Record<string, string | string[] | undefined>,
  query: URLSearchParams,
): string | undefined {
  const header = headers['x-functions-key'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader) return fromHeader;
  return query.get('code') ?? undefined;
}

export function normalizeAuthLevel(value: unknown): AuthLevel {
  const level = typeof value === 'string' ? value.toLowerCase() : 'function';
  if (level === 'anonymous' || level === 'function' || level === 'admin') return level;
  throw new Error(`Unsupported authLevel '${String(value)}' (expected anonymous, function or admin).`);
}

export function isAuthorized(level: AuthLevel, key: string | undefined, keys: HostKeys): boolean {
  if (level === 'anonymous') return true;
  if (!key) return false;
  if (level === 'admin') return constantTimeEquals(key, keys.masterKey);
  return matchesAny(key, [keys.masterKey, ...Object.values(keys.functionKeys)]);
}

/** The Durable webhooks accept the extension's system key, or the master key. */
export function isSystemKeyAuthorized(key: string | undefined, keys: HostKeys): boolean {
  if (!key) return false;
  return matchesAny(key, [keys.masterKey, keys.systemKeys.durabletask_extension]);
}
