import path from 'node:path';

/** The repository root when the devhost runs from its TypeScript source (this file is in devhost/). */
const SOURCE_ROOT = path.resolve(__dirname, '..');

/**
 * The entry file of the worker thread `name`, which sits beside `callerFile` (pass `__filename`). Tests
 * run the devhost from its TypeScript source, which a worker thread cannot load; they use the compiled
 * copy under dist/, which `npm test` builds first.
 */
export function workerScript(callerFile: string, name: string): string {
  const dir = path.dirname(callerFile);
  if (!callerFile.endsWith('.ts')) return path.join(dir, `${name}.js`);
  return path.join(SOURCE_ROOT, 'dist', path.relative(SOURCE_ROOT, dir), `${name}.js`);
}
