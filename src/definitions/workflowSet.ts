/** Validates a set of definitions together: names unique, `workflow` steps resolvable, no cycles. */
import type { DefinitionError } from './errors.js';
import { parseWorkflowDefinition, type ParsedDefinitionFile, type ParseOptions } from './parseDefinition.js';
import type { WorkflowDefinition } from './schema.js';

export interface WorkflowSource {
  /** Path as shown in errors, e.g. `workflows/research-report.yaml`. */
  readonly file: string;
  /** The definition name the file name implies. */
  readonly name: string;
  readonly text: string;
}

export interface WorkflowSet {
  readonly definitions: Map<string, WorkflowDefinition>;
  readonly errors: DefinitionError[];
}

export type WorkflowSetOptions = Omit<ParseOptions, 'expectedName'>;

/** The chain `from → … → from` through `workflow` steps, if calling `to` from `from` closes one. */
function cycleThrough(
  graph: ReadonlyMap<string, readonly string[]>,
  from: string,
  to: string,
): string[] | undefined {
  const visit = (node: string, trail: string[], seen: Set<string>): string[] | undefined => {
    if (node === from) return trail;
    if (seen.has(node)) return undefined;
    seen.add(node);
    for (const next of graph.get(node) ?? []) {
      const found = visit(next, [...trail, next], seen);
      if (found) return found;
    }
    return undefined;
  };
  return visit(to, [from, to], new Set());
}

export function checkWorkflowCalls(files: ReadonlyMap<string, ParsedDefinitionFile>): DefinitionError[] {
  const graph = new Map(
    [...files].map(([name, parsed]) => [name, parsed.calls.map((call) => call.workflow)]),
  );
  const known = [...files.keys()].sort().join(', ');
  const errors: DefinitionError[] = [];
  for (const [name, parsed] of files) {
    for (const call of parsed.calls) {
      const at = {
        file: parsed.file,
        line: call.position.line,
        column: call.position.column,
        path: call.path,
      };
      if (!files.has(call.workflow)) {
        errors.push({ ...at, message: `unknown workflow "${call.workflow}" (known: ${known})` });
        continue;
      }
      const cycle = cycleThrough(graph, name, call.workflow);
      if (cycle)
        errors.push({ ...at, message: `calling "${call.workflow}" creates a cycle: ${cycle.join(' → ')}` });
    }
  }
  return errors;
}

/** Parses every source, then checks them against each other. Pure: the caller reads the files. */
export function parseWorkflowSources(
  sources: readonly WorkflowSource[],
  options: WorkflowSetOptions = {},
): WorkflowSet {
  const files = new Map<string, ParsedDefinitionFile>();
  const errors: DefinitionError[] = [];
  for (const source of sources) {
    const parsed = parseWorkflowDefinition(source.text, source.file, {
      ...options,
      expectedName: source.name,
    });
    const clash = files.get(source.name);
    if (clash) {
      errors.push({
        file: source.file,
        line: 1,
        column: 1,
        path: '',
        message: `another file already defines workflow "${source.name}" (${clash.file})`,
      });
      continue;
    }
    files.set(source.name, parsed);
    errors.push(...parsed.errors);
  }
  errors.push(...checkWorkflowCalls(files));
  const broken = new Set(errors.map((error) => error.file));
  const definitions = new Map<string, WorkflowDefinition>();
  for (const [name, parsed] of files) {
    if (parsed.definition && !broken.has(parsed.file)) definitions.set(name, parsed.definition);
  }
  return { definitions, errors };
}
