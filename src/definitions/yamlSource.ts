/** Parses one YAML file for a loader: the plain value and a source map, or located syntax errors. */
import { LineCounter, parseDocument } from 'yaml';
import type { DefinitionError, PathSegment } from './errors.js';
import { SourceMap } from './sourceMap.js';

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The plain value at `path`, or undefined when the path does not exist. */
export function valueAt(raw: unknown, path: readonly PathSegment[]): unknown {
  let value = raw;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
    else if (isRecord(value) && Object.hasOwn(value, segment)) value = value[segment];
    else return undefined;
  }
  return value;
}

export type YamlSource =
  | { readonly ok: true; readonly raw: unknown; readonly sourceMap: SourceMap }
  | { readonly ok: false; readonly errors: DefinitionError[] };

/** Duplicate keys are errors, and alias bombs are refused, for workflow and tool files alike. */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: true,
    uniqueKeys: true,
    logLevel: 'error',
  });
  if (document.errors.length > 0) {
    const errors = document.errors.map((error) => {
      const [start] = error.linePos ?? [{ line: 1, col: 1 }];
      const message = (error.message.split('\n')[0] ?? error.message).replace(
        / at line \d+, column \d+:?$/,
        '',
      );
      return { file, line: start.line, column: start.col, path: '', message: `YAML syntax: ${message}` };
    });
    return { ok: false, errors };
  }
  const sourceMap = new SourceMap(text, document, lineCounter);
  try {
    return { ok: true, raw: document.toJS({ maxAliasCount: 100 }), sourceMap };
  } catch (error) {
    // yaml throws (ReferenceError "Excessive alias count") for an alias bomb instead of listing an error.
    const message = (error as Error).message.split('\n')[0] ?? 'unreadable';
    return { ok: false, errors: [{ file, line: 1, column: 1, path: '', message: `YAML: ${message}` }] };
  }
}
