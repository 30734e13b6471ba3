import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staleBuildMessage, staleBuildOutputs } from '../support/distFreshness.js';

/** The integration project's check that dist/ is the build of the sources (test/support/distSetup.ts). */
let root: string;
const write = (file: string, text: string, mtime?: Date) => {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
  if (mtime) utimesSync(join(root, file), mtime, mtime);
};
const at = (seconds: number) => new Date(1_800_000_000_000 + seconds * 1000);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dist-freshness-'));
  write(
    'tsconfig.build.json',
    JSON.stringify({
      compilerOptions: { outDir: 'dist', rootDir: '.', module: 'nodenext', declaration: false },
      include: ['src'],
      exclude: ['src/skipped'],
    }),
  );
  write('src/a.ts', 'export const a = 1;\n', at(0));
  write('src/types.d.ts', 'export type T = string;\n', at(50));
  write('src/skipped/c.ts', 'export const c = 3;\n', at(50));
  write('dist/src/a.js', 'exports.a = 1;\n', at(10));
  write('src/dashboard/app.mjs', 'export {};\n');
  write('src/dashboard/README.md', '# not copied\n');
  write('dist/src/dashboard/app.mjs', 'export {};\n');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('dist freshness', () => {
  it('finds nothing stale in a fresh build, ignoring excluded files, declarations and the README', () => {
    expect(staleBuildOutputs(root)).toEqual([]);
  });

  it('names a missing output, an output older than its source and a copied file that differs', () => {
    write('src/b.ts', 'export const b = 2;\n', at(0));
    write('src/a.ts', 'export const a = 10;\n', at(20));
    write('src/dashboard/app.mjs', 'export const changed = true;\n');
    const stale = staleBuildOutputs(root);
    expect(stale).toEqual([
      { source: 'src/a.ts', output: 'dist/src/a.js', reason: 'older than its source' },
      { source: 'src/b.ts', output: 'dist/src/b.js', reason: 'missing' },
      {
        source: 'src/dashboard/app.mjs',
        output: 'dist/src/dashboard/app.mjs',
        reason: 'differs from its source',
      },
    ]);
    const message = staleBuildMessage(stale, 2);
    expect(message).toMatch(/^dist\/ is stale: 3 build outputs/);
    expect(message).toContain('Run `npm run build`');
    expect(message).toContain('dist/src/a.js is older than its source (src/a.ts)');
    expect(message).toContain('… and 1 more');
  });

  it('says which config it could not read', () => {
    rmSync(join(root, 'tsconfig.build.json'));
    expect(() => staleBuildOutputs(root)).toThrow(/tsconfig\.build\.json/);
  });
});
