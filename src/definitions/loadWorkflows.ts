/** Reads `workflows/*.yaml` from disk. Everything else about definitions is pure and lives beside it. */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, isAbsolute, join, relative } from 'node:path';
import { parseWorkflowSources, type WorkflowSet, type WorkflowSetOptions } from './workflowSet.js';

const DEFINITION_EXTENSIONS = new Set(['.yaml', '.yml']);

export type LoadWorkflowsOptions = WorkflowSetOptions;

/** Paths under the working directory are shown relative to it, as editors and CI logs expect. */
function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown.startsWith('..') || isAbsolute(shown) ? path : shown;
}

/**
 * Loads and validates every definition in `dir`. A file with any error is left out of
 * `definitions`; `errors` lists every problem in every file.
 */
export function loadWorkflowDirectory(dir: string, options: LoadWorkflowsOptions = {}): WorkflowSet {
  const sources = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && DEFINITION_EXTENSIONS.has(extname(entry.name)))
    .map((entry) => entry.name)
    .sort()
    .map((fileName) => {
      const path = join(dir, fileName);
      return {
        file: displayPath(path),
        name: basename(fileName, extname(fileName)),
        text: readFileSync(path, 'utf8'),
      };
    });
  return parseWorkflowSources(sources, options);
}
