/** Turns the text of one workflow file into a validated definition or a list of located errors. */
import type { z } from 'zod';
import { checkDefinition, type DefinitionCheckOptions, type Issue } from './checkDefinition.js';
import { formatPath, type DefinitionError, type PathSegment } from './errors.js';
import { ALLOWED_KEYS, STEP_KINDS, WorkflowDefinition } from './schema.js';
import type { SourceMap, SourcePosition } from './sourceMap.js';
import { isRecord, parseYamlSource, valueAt } from './yamlSource.js';

export interface LocatedWorkflowCall {
  readonly workflow: string;
  readonly path: string;
  readonly position: SourcePosition;
}

export interface ParsedDefinitionFile {
  readonly file: string;
  /** The definition, when the file has no errors. */
  readonly definition?: WorkflowDefinition;
  readonly errors: readonly DefinitionError[];
  /** `workflow` steps, checked against the other files by `checkWorkflowCalls`. */
  readonly calls: readonly LocatedWorkflowCall[];
}

export interface ParseOptions extends DefinitionCheckOptions {
  /** The name the file name implies; `name` must equal it. */
  readonly expectedName?: string;
}

/** Fields holding one expression; unquoted `{{ }}` there is a YAML flow mapping, not text. */
const EXPRESSION_FIELDS = new Set<PathSegment>(['when', 'over', 'output', 'concurrency']);

const UNION_MESSAGES: Record<string, string> = {
  version: `must be a whole number or a version string such as '1.2.0' (quote versions like '1.10': YAML reads them as numbers)`,
  concurrency: 'must be a whole number of at least 1, or an expression',
  onTimeout: 'must be fail, continue, or { default: <value> }',
};

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function allowedKeys(raw: unknown, path: readonly PathSegment[]): readonly string[] | undefined {
  const target = valueAt(raw, path);
  if (path.length === 0) return ALLOWED_KEYS.definition;
  const last = path[path.length - 1];
  if (isRecord(target) && typeof target.kind === 'string' && Object.hasOwn(ALLOWED_KEYS.step, target.kind)) {
    return ALLOWED_KEYS.step[target.kind as keyof typeof ALLOWED_KEYS.step];
  }
  if (last === 'budget') return ALLOWED_KEYS.budget;
  if (last === 'onTimeout') return ALLOWED_KEYS.onTimeout;
  return undefined;
}

class IssueTranslator {
  readonly errors: DefinitionError[] = [];

  constructor(
    private readonly file: string,
    private readonly raw: unknown,
    private readonly sourceMap: SourceMap,
  ) {}

  add(issue: Issue): void {
    const { line, column } = this.sourceMap.locate(issue);
    this.errors.push({ file: this.file, line, column, path: formatPath(issue.path), message: issue.message });
  }

  fromZod(issue: z.core.$ZodIssue): void {
    const path = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
    const last = path[path.length - 1];
    const value = valueAt(this.raw, path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const allowed = allowedKeys(this.raw, path);
        for (const key of issue.keys) {
          const hint = allowed ? ` (allowed: ${allowed.join(', ')})` : '';
          this.add({ path: [...path, key], at: 'key', message: `unknown key "${key}"${hint}` });
        }
        return;
      }
      case 'invalid_union': {
        if (issue.discriminator !== undefined) {
          // zod puts the discriminator values on the issue without declaring them in its type.
          const allowed = (issue as { options?: readonly unknown[] }).options ?? STEP_KINDS;
          const options = allowed.map(String).sort().join(', ');
          if (value === undefined) {
            return this.add({
              path: path.slice(0, -1),
              message: `missing required key "kind" (one of: ${options})`,
            });
          }
          const here = allowed.length < STEP_KINDS.length ? 'allowed here' : 'known';
          return this.add({
            path,
            message: `unknown step kind ${JSON.stringify(value)} (${here}: ${options})`,
          });
        }
        // The alternative whose type matched but whose constraint failed says the most.
        const specific = issue.errors.find(
          (alternative) =>
            alternative[0] &&
            !['invalid_type', 'invalid_value', 'invalid_union'].includes(alternative[0].code),
        );
        const message =
          specific?.[0]?.message ??
          (typeof last === 'string' ? UNION_MESSAGES[last] : undefined) ??
          issue.message;
        return this.add({ path, message });
      }
      case 'invalid_type': {
        if (value === undefined) {
          return this.add({ path: path.slice(0, -1), message: `missing required key "${String(last)}"` });
        }
        const source = this.sourceMap.sourceOf(path) ?? '';
        if (issue.expected === 'string' && EXPRESSION_FIELDS.has(last ?? '') && source.startsWith('{{')) {
          return this.add({
            path,
            message: `quote the expression: ${String(last)}: "{{ ... }}" (unquoted, YAML reads {{ }} as a mapping)`,
          });
        }
        const custom = issue.message.startsWith('Invalid input') ? undefined : issue.message;
        return this.add({
          path,
          message: custom ?? `expected ${issue.expected}, got ${describeType(value)}`,
        });
      }
      case 'invalid_key':
        return this.add({ path, at: 'key', message: issue.issues[0]?.message ?? issue.message });
      default:
        return this.add({ path, message: issue.message });
    }
  }
}

/** Parses and validates one definition. Pure: the caller reads the file. */
export function parseWorkflowDefinition(
  text: string,
  file: string,
  options: ParseOptions = {},
): ParsedDefinitionFile {
  const source = parseYamlSource(text, file);
  if (!source.ok) return { file, errors: source.errors, calls: [] };
  const { raw, sourceMap } = source;
  const translator = new IssueTranslator(file, raw, sourceMap);
  if (!isRecord(raw)) {
    translator.add({
      path: [],
      message: 'a workflow definition must be a YAML mapping (name:, version:, steps: …)',
    });
    return { file, errors: translator.errors, calls: [] };
  }

  const parsed = WorkflowDefinition.safeParse(raw);
  if (!parsed.success) parsed.error.issues.forEach((issue) => translator.fromZod(issue));
  const { issues, calls } = checkDefinition(raw, options);
  issues.forEach((issue) => translator.add(issue));
  if (
    options.expectedName !== undefined &&
    typeof raw.name === 'string' &&
    raw.name !== options.expectedName
  ) {
    translator.add({
      path: ['name'],
      message: `name "${raw.name}" does not match the file name (expected "${options.expectedName}")`,
    });
  }

  const locatedCalls = calls.map((call) => ({
    workflow: call.workflow,
    path: formatPath(call.path),
    position: sourceMap.locate({ path: call.path }),
  }));
  if (!parsed.success || translator.errors.length > 0) {
    return { file, errors: translator.errors, calls: locatedCalls };
  }
  const definition: WorkflowDefinition = {
    ...parsed.data,
    steps: parsed.data.steps.map((step) =>
      step.kind === 'approval' ? { ...step, event: step.event ?? step.id } : step,
    ),
  };
  return { file, definition, errors: [], calls: locatedCalls };
}
