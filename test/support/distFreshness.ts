/**
 * Is `dist/` the build of the sources on disk? The integration tests run the compiled app (`dist/`) on the
 * local host, so a source edited after the last `npm run build` would be tested in its old form. The list
 * of sources and where each compiles to come from TypeScript's own reading of `tsconfig.build.json`
 * (`getParsedCommandLineOfConfigFile`, `getOutputFileNames`), so include/exclude and `outDir` are exactly
 * the build's; the dashboard's static files, copied by `scripts/copyDashboard.ts`, are compared by content.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface StaleOutput {
  /** Relative to the root. */
  readonly source: string;
  readonly output: string;
  readonly reason: 'missing' | 'older than its source' | 'differs from its source';
}

function buildOutputs(root: string, configFile: string): StaleOutput[] {
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(`${configFile}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    },
  };
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(root, configFile), {}, host);
  if (!parsed) throw new Error(`cannot read ${configFile}`);
  const stale: StaleOutput[] = [];
  const relative = (file: string) => path.relative(root, file);
  for (const source of parsed.fileNames) {
    if (source.endsWith('.d.ts')) continue;
    const sourceTime = statSync(source).mtimeMs;
    const output = ts
      .getOutputFileNames(parsed, source, !ts.sys.useCaseSensitiveFileNames)
      .find((file) => /\.[cm]?js$/.test(file));
    if (output === undefined) continue;
    if (!existsSync(output))
      stale.push({ source: relative(source), output: relative(output), reason: 'missing' });
    else if (statSync(output).mtimeMs < sourceTime)
      stale.push({ source: relative(source), output: relative(output), reason: 'older than its source' });
  }
  return stale;
}

/** Copied files (not compiled): every file of `from` but `excluded` ones must be in `to` with the same bytes. */
function copiedOutputs(root: string, from: string, to: string, excluded: RegExp): StaleOutput[] {
  const stale: StaleOutput[] = [];
  if (!existsSync(path.join(root, from))) return stale;
  for (const entry of readdirSync(path.join(root, from), { withFileTypes: true })) {
    if (!entry.isFile() || excluded.test(entry.name)) continue;
    const source = path.join(from, entry.name);
    const output = path.join(to, entry.name);
    if (!existsSync(path.join(root, output))) stale.push({ source, output, reason: 'missing' });
    else if (!readFileSync(path.join(root, source)).equals(readFileSync(path.join(root, output))))
      stale.push({ source, output, reason: 'differs from its source' });
  }
  return stale;
}

/** Every build output that is missing or older than its source (empty when `dist/` is fresh). */
export function staleBuildOutputs(root: string, configFile = 'tsconfig.build.json'): StaleOutput[] {
  return [
    ...buildOutputs(root, configFile),
    // scripts/copyDashboard.ts copies the dashboard's assets (README.md and sources stay behind).
    ...copiedOutputs(root, 'src/dashboard', 'dist/src/dashboard', /\.(md|ts)$/),
  ];
}

export function staleBuildMessage(stale: readonly StaleOutput[], shown = 10): string {
  const lines = stale.slice(0, shown).map((s) => `  ${s.output} is ${s.reason} (${s.source})`);
  const more = stale.length > shown ? [`  … and ${stale.length - shown} more`] : [];
  return [
    `dist/ is stale: ${stale.length} build output${stale.length === 1 ? '' : 's'} do not match the sources, and the`,
    'integration tests run the compiled app. Run `npm run build` (`npm test` builds first), or only the unit',
    'tests with `npm run test:unit`.',
    ...lines,
    ...more,
  ].join('\n');
}
