import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIgnoreMatcher } from '../../scripts/lib/funcignore.js';

describe('createIgnoreMatcher', () => {
  it('matches unanchored names at any depth and anchored ones at the root only', () => {
    const ignored = createIgnoreMatcher('*.ts\n/test\nbuild/');
    expect(ignored('src/a.ts', false)).toBe(true);
    expect(ignored('node_modules/x/index.d.ts', false)).toBe(true);
    expect(ignored('test/a.js', false)).toBe(true);
    expect(ignored('node_modules/x/test/a.js', false)).toBe(false);
    expect(ignored('a/build', true)).toBe(true);
    expect(ignored('a/build', false)).toBe(false);
    expect(ignored('a/build/x.js', false)).toBe(true);
  });

  it('lets a later negation re-include a file, but not one under an ignored directory', () => {
    const ignored = createIgnoreMatcher('# comment\n\n*.md\n!README.md\ndocs/\n!docs/keep.md');
    expect(ignored('CHANGELOG.md', false)).toBe(true);
    expect(ignored('README.md', false)).toBe(false);
    expect(ignored('docs/keep.md', false)).toBe(true);
  });

  it('supports **, ? and character classes', () => {
    const ignored = createIgnoreMatcher('a/**/z.js\nlogs/**\nfile?.txt\n[abc].bin\n[!x]y.cfg');
    expect(ignored('a/z.js', false)).toBe(true);
    expect(ignored('a/b/c/z.js', false)).toBe(true);
    expect(ignored('b/a/z.js', false)).toBe(false);
    expect(ignored('logs/deep/x', false)).toBe(true);
    expect(ignored('file1.txt', false)).toBe(true);
    expect(ignored('file10.txt', false)).toBe(false);
    expect(ignored('b.bin', false)).toBe(true);
    expect(ignored('d.bin', false)).toBe(false);
    expect(ignored('ay.cfg', false)).toBe(true);
    expect(ignored('xy.cfg', false)).toBe(false);
  });

  it("applies the repo's .funcignore as the deployment expects", () => {
    const ignored = createIgnoreMatcher(readFileSync(join(__dirname, '../../.funcignore'), 'utf8'));
    const kept = [
      'dist/src/index.js',
      'host.json',
      'package.json',
      'node_modules/durable-functions/lib/src/index.js',
    ];
    const dropped = [
      'dist/src/index.js.map',
      'src/index.ts',
      'dist/devhost/cli.js',
      'dist/scripts/pack.js',
      'test/unit/x.test.ts',
      'local.settings.json',
      '.gitignore',
      'workflows/readme.md',
      'infra/main.bicep',
      'docs/operations.md',
      'azure.yaml',
      '.azure/prod/.env',
    ];
    for (const path of kept) expect(ignored(path, false), path).toBe(false);
    for (const path of dropped) expect(ignored(path, false), path).toBe(true);
  });
});
