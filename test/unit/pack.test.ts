import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack, type PackResult } from '../../scripts/lib/pack.js';
import { crc32, readZip, type ZipEntry, ZipWriter } from '../../scripts/lib/zip.js';

const root = join(__dirname, '../..');

describe('zip writer', () => {
  it('computes standard CRC-32 check values', () => {
    expect(crc32(Buffer.from(''))).toBe(0);
    expect(crc32(Buffer.from('a'))).toBe(0xe8b7be43);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('round-trips stored and deflated entries with UTF-8 names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zip-test-'));
    try {
      const path = join(dir, 'out.zip');
      const zip = new ZipWriter(path);
      zip.add('a.txt', Buffer.from('x'));
      zip.add('dir/ünï.txt', Buffer.from('repeat '.repeat(1_000)));
      zip.add('empty', Buffer.alloc(0));
      const summary = zip.close();
      const entries = readZip(readFileSync(path));
      expect(summary.entries).toBe(3);
      expect(entries.map((e) => [e.name, e.data.toString()])).toEqual([
        ['a.txt', 'x'],
        ['dir/ünï.txt', 'repeat '.repeat(1_000)],
        ['empty', ''],
      ]);
      expect(summary.bytes).toBeLessThan(summary.uncompressedBytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run pack', () => {
  let dir: string;
  let result: PackResult;
  let entries: ZipEntry[];
  let names: Set<string>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pack-test-'));
    result = pack({ root, out: join(dir, 'app.zip') });
    entries = readZip(readFileSync(result.out));
    names = new Set(entries.map((e) => e.name));
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the compiled app where package.json main points, and the host config', () => {
    const main = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string }).main;
    expect(main).toBe('dist/src/index.js');
    for (const name of [main, 'host.json', 'package.json', 'package-lock.json'])
      expect(names.has(name), name).toBe(true);
    expect(result.entries).toBe(entries.length);
  });

  it('holds the production dependencies', () => {
    for (const dep of ['durable-functions', '@azure/functions', 'zod', 'yaml']) {
      expect(names.has(`node_modules/${dep}/package.json`), dep).toBe(true);
    }
  });

  it('leaves out sources, tests, the dev host, source maps and dev dependencies', () => {
    const forbidden = [
      /^src\//,
      /^test\//,
      /^devhost\//,
      /^scripts\//,
      /^dist\/(devhost|test|bench|scripts)\//,
      /\.ts$/,
      /\.js\.map$/,
      /^local\.settings/,
      /^node_modules\/(vitest|azurite|typescript|eslint|prettier|better-sqlite3|playwright-core)\//,
    ];
    const leaks = [...names].filter((name) => forbidden.some((pattern) => pattern.test(name)));
    expect(leaks).toEqual([]);
  });

  it('loads with nothing but what is in the zip', () => {
    const app = join(dir, 'app');
    for (const entry of entries) {
      mkdirSync(dirname(join(app, entry.name)), { recursive: true });
      writeFileSync(join(app, entry.name), entry.data);
    }
    const loaded = spawnSync(process.execPath, ['-e', "require('./dist/src/index.js')"], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(loaded.stderr).not.toMatch(/Cannot find module/);
    expect(loaded.status).toBe(0);
  });
});
