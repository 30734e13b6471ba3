/** Errors found while loading workflow definitions, each pointing at a place in a file. */
export type PathSegment = string | number;

export interface DefinitionError {
  /** The file as it should be shown to a person, e.g. `workflows/research-report.yaml`. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** JSON path inside the definition, e.g. `steps[2].over`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$]*$/;

/** `['steps', 2, 'over']` → `steps[2].over`. */
export function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (!PLAIN_KEY.test(segment)) return `[${JSON.stringify(segment)}]`;
      return index === 0 ? segment : `.${segment}`;
    })
    .join('');
}

export function formatDefinitionError(error: DefinitionError): string {
  const where = `${error.file}:${error.line}:${error.column}`;
  return error.path ? `${where} ${error.path}: ${error.message}` : `${where} ${error.message}`;
}

/** Why the app will not start: `what` (e.g. "Workflow definitions") in `directory`, every error listed. */
export function loadFailureMessage(
  what: string,
  directory: string,
  errors: readonly DefinitionError[],
): string {
  const count = `${errors.length} error${errors.length === 1 ? '' : 's'}`;
  const lines = formatDefinitionErrors(errors)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return `${what} in ${directory} have ${count}; the app will not start until they are fixed:\n${lines}`;
}

/** One line per error, in file and position order. */
export function formatDefinitionErrors(errors: readonly DefinitionError[]): string {
  return [...errors]
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column)
    .map(formatDefinitionError)
    .join('\n');
}
