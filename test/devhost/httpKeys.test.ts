import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  constantTimeEquals,
  isAuthorized,
  isSystemKeyAuthorized,
  loadOrCreateKeys,
  presentedKey,
} from '../../devhost/http/keys.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'devhost-keys-'));

describe('host keys', () => {
  it('creates keys.json on first start and reuses it', async () => {
    const dir = await tmp();
    const first = await loadOrCreateKeys(dir, {});
    expect(first.masterKey).toMatch(/^[\w-]{40}$/);
    expect(first.functionKeys.default).not.toBe(first.masterKey);
    expect(first.systemKeys.durabletask_extension).toBeTruthy();
    const onDisk = JSON.parse(await readFile(path.join(dir, 'keys.json'), 'utf8')) as unknown;
    expect(onDisk).toEqual(first);
    expect((await stat(path.join(dir, 'keys.json'))).mode & 0o077).toBe(0);
    expect(await loadOrCreateKeys(dir, {})).toEqual(first);
  });

  it('lets the environment override without writing it to disk', async () => {
    const dir = await tmp();
    const stored = await loadOrCreateKeys(dir, {});
    const env = { DEVHOST_MASTER_KEY: 'm', DEVHOST_FUNCTION_KEY: 'f', DEVHOST_SYSTEM_KEY: 's' };
    const keys = await loadOrCreateKeys(dir, env);
    expect(keys).toEqual({
      masterKey: 'm',
      functionKeys: { default: 'f' },
      systemKeys: { durabletask_extension: 's' },
    });
    expect(JSON.parse(await readFile(path.join(dir, 'keys.json'), 'utf8'))).toEqual(stored);
  });

  it('names the file when it is corrupt', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'keys.json'), '{"masterKey": 1}');
    await expect(loadOrCreateKeys(dir, {})).rejects.toThrow(/keys\.json is invalid/);
    await writeFile(path.join(dir, 'keys.json'), 'not json');
    await expect(loadOrCreateKeys(dir, {})).rejects.toThrow(/not valid JSON/);
  });

  it('applies auth levels', () => {
    const keys = {
      masterKey: 'M',
      functionKeys: { default: 'F' },
      systemKeys: { durabletask_extension: 'S' },
    };
    expect(isAuthorized('anonymous', undefined, keys)).toBe(true);
    expect(isAuthorized('function', 'F', keys)).toBe(true);
    expect(isAuthorized('function', 'M', keys)).toBe(true);
    expect(isAuthorized('function', 'S', keys)).toBe(false);
    expect(isAuthorized('function', undefined, keys)).toBe(false);
    expect(isAuthorized('admin', 'F', keys)).toBe(false);
    expect(isAuthorized('admin', 'M', keys)).toBe(true);
    expect(isSystemKeyAuthorized('S', keys)).toBe(true);
    expect(isSystemKeyAuthorized('M', keys)).toBe(true);
    expect(isSystemKeyAuthorized('F', keys)).toBe(false);
  });

  it('reads the key from the header first, then ?code=', () => {
    expect(presentedKey({ 'x-functions-key': 'h' }, new URLSearchParams('code=q'))).toBe('h');
    expect(presentedKey({}, new URLSearchParams('code=q'))).toBe('q');
    expect(presentedKey({}, new URLSearchParams())).toBeUndefined();
    expect(constantTimeEquals('abc', 'abc')).toBe(true);
    expect(constantTimeEquals('abc', 'abcd')).toBe(false);
  });
});
