/**
 * Checks that need more than the zod shape: expressions and the steps they read, tools, roles,
 * JSON Schemas, duplicate ids. Works on the raw parsed YAML so that a file with a structural error
 * in one step still gets every other problem reported in the same run.
 */
import { formatPath, type PathSegment } from './errors.js';
import { checkTemplate, stepReferences, type StepReference } from './expressionAnalysis.js';
import {
  compileExpression,
  compileTemplate,
  ExpressionSyntaxError,
  SCOPE_ROOTS,
  STEP_RESULT_FIELDS,
  type CompiledTemplate,
} from './expressions.js';
import { checkJsonSchema } from './jsonSchema.js';
import {
  DEFAULT_ITEM_VARIABLE,
  DEFAULT_KNOWN_ROLES,
  DEFAULT_KNOWN_TOOLS,
  STEP_ID_PATTERN,
} from './schema.js';
import type { Located } from './sourceMap.js';

export const DEFAULT_MAX_AGENT_TURNS = 50;

export interface DefinitionCheckOptions {
  /** Tools agents may use; defaults to the built-in tools. */
  readonly knownTools?: readonly string[];
  /**
   * Tools known only once the app runs (MCP servers' tools, `<server>__<tool>`): accepted here, checked
   * when a run starts. Undefined or false for a name: it must be in `knownTools`.
   */
  readonly isRuntimeTool?: (name: string) => boolean;
  /** Roles configured for the app; defaults to planner, worker, writer. */
  readonly knownRoles?: readonly string[];
  /** When given, `provider:deployment` role overrides must name one of these providers. */
  readonly knownProviders?: readonly string[];
  /** Upper bound for an agent step's `maxTurns`. */
  readonly maxAgentTurns?: number;
  /**
   * When given (configuration is known), why a `batch: true` step's role cannot use a provider batch
   * API, or undefined when it can. Gets the step's role and the workflow's `roles` overrides.
   */
  readonly batchRouteProblem?: (
    role: string,
    workflowRoles: Readonly<Record<string, string>>,
  ) => string | undefined;
}

export interface Issue extends Located {
  readonly message: string;
}

/** A `workflow` step, for the checks across definitions. */
export interface WorkflowCall {
  readonly workflow: string;
  readonly path: readonly PathSegment[];
}

interface StepInfo {
  readonly id: string;
  readonly kind: unknown;
  readonly path: readonly PathSegment[];
  /** Index of the top-level step this step is, or is nested in. */
  readonly order: number;
  /** The map or parallel step this one is nested in. */
  readonly parent?: string;
  readonly branches: readonly string[];
}

interface Scope {
  /** Index of the top-level step being checked; steps before it are readable. */
  readonly order: number;
  readonly locals: readonly string[];
  /** True inside a map's item step or a parallel branch. */
  readonly nested?: boolean;
}

type Raw = Record<string, unknown>;

const isRecord = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const PROVIDER_DEPLOYMENT = /^([a-z][a-z0-9-]*):(\S+)$/;
const RESERVED_LOCALS = new Set<string>([...SCOPE_ROOTS, 'index']);

const list = (names: Iterable<string>): string => [...names].sort().join(', ');

class DefinitionChecker {
  readonly issues: Issue[] = [];
  readonly calls: WorkflowCall[] = [];
  private readonly steps = new Map<string, StepInfo>();
  private readonly tools: ReadonlySet<string>;
  private readonly roles: ReadonlySet<string>;
  private readonly maxAgentTurns: number;

  constructor(
    private readonly raw: Raw,
    private readonly options: DefinitionCheckOptions,
  ) {
    this.tools = new Set(options.knownTools ?? DEFAULT_KNOWN_TOOLS);
    const overrides = isRecord(raw.roles) ? Object.keys(raw.roles) : [];
    this.roles = new Set([...(options.knownRoles ?? DEFAULT_KNOWN_ROLES), ...overrides]);
    this.maxAgentTurns = options.maxAgentTurns ?? DEFAULT_MAX_AGENT_TURNS;
  }

  private report(path: readonly PathSegment[], message: string, extra: Omit<Located, 'path'> = {}): void {
    this.issues.push({ path, message, ...extra });
  }

  run(): void {
    this.checkSchema(this.raw.input, ['input']);
    this.checkRoleOverrides();
    const steps = Array.isArray(this.raw.steps) ? this.raw.steps : [];
    steps.forEach((step, order) => this.collect(step, ['steps', order], order, undefined));
    steps.forEach((step, order) => this.checkStep(step, ['steps', order], { order, locals: [] }));
    if (steps.length > 0) this.checkOutput(steps.length);
  }

  private collect(step: unknown, path: PathSegment[], order: number, parent: string | undefined): void {
    if (!isRecord(step)) return;
    const branches = isRecord(step.branches) ? step.branches : {};
    if (typeof step.id === 'string') {
      const earlier = this.steps.get(step.id);
      if (earlier) {
        this.report(
          [...path, 'id'],
          `duplicate step id "${step.id}" (first used at ${formatPath(earlier.path)})`,
        );
      } else {
        this.steps.set(step.id, {
          id: step.id,
          kind: step.kind,
          path,
          order,
          parent,
          branches: Object.keys(branches),
        });
      }
    }
    const id = typeof step.id === 'string' ? step.id : undefined;
    if (step.kind === 'map') this.collect(step.step, [...path, 'step'], order, id);
    if (step.kind === 'parallel') {
      for (const [name, branch] of Object.entries(branches)) {
        this.collect(branch, [...path, 'branches', name], order, id);
      }
    }
  }

  private checkStep(step: unknown, path: PathSegment[], scope: Scope): void {
    if (!isRecord(step)) return;
    this.checkExpression(step.when, [...path, 'when'], scope, compileExpression);
    switch (step.kind) {
      case 'llm':
      case 'agent':
        this.checkRole(step.role, [...path, 'role']);
        this.checkExpression(step.system, [...path, 'system'], scope, compileTemplate);
        this.checkExpression(step.prompt, [...path, 'prompt'], scope, compileTemplate);
        if (Array.isArray(step.attach)) {
          step.attach.forEach((expression: unknown, index: number) =>
            this.checkExpression(expression, [...path, 'attach', index], scope, compileExpression),
          );
        }
        if (step.outputSchema !== undefined) this.checkSchema(step.outputSchema, [...path, 'outputSchema']);
        if (step.kind === 'llm' && step.batch === true) this.checkBatchRoute(step, path);
        if (step.kind === 'llm' && step.batch === true && step.attach !== undefined) {
          this.report(
            [...path, 'attach'],
            'attach cannot be used with batch: true (batch requests carry text only)',
          );
        }
        if (step.kind === 'agent') {
          this.checkAgent(step, path);
          for (const [name, template] of Object.entries(step.files ?? {})) {
            this.checkExpression(template, [...path, 'files', name], scope, compileTemplate);
          }
        }
        return;
      case 'map':
        return this.checkMap(step, path, scope);
      case 'parallel':
        if (!isRecord(step.branches)) return;
        for (const [name, branch] of Object.entries(step.branches)) {
          this.checkStep(branch, [...path, 'branches', name], { ...scope, nested: true });
        }
        return;
      case 'approval':
        this.checkExpression(step.message, [...path, 'message'], scope, compileTemplate);
        return;
      case 'workflow':
        if (typeof step.workflow === 'string')
          this.calls.push({ workflow: step.workflow, path: [...path, 'workflow'] });
        this.checkTemplatesIn(step.input, [...path, 'input'], scope);
        return;
    }
  }

  private checkAgent(step: Raw, path: PathSegment[]): void {
    if (Array.isArray(step.tools)) {
      if (step.tools.length === 0) {
        this.report(
          [...path, 'tools'],
          'an agent needs at least one tool (use an llm step for a single call)',
        );
      }
      const seen = new Set<unknown>();
      step.tools.forEach((tool, index) => {
        if (typeof tool !== 'string') return;
        if (!this.tools.has(tool) && this.options.isRuntimeTool?.(tool) !== true) {
          this.report([...path, 'tools', index], `unknown tool "${tool}" (known: ${list(this.tools)})`);
        } else if (seen.has(tool)) {
          this.report([...path, 'tools', index], `tool "${tool}" is listed twice`);
        }
        seen.add(tool);
      });
    }
    if (typeof step.maxTurns === 'number' && step.maxTurns > this.maxAgentTurns) {
      this.report([...path, 'maxTurns'], `maxTurns must be at most ${this.maxAgentTurns}`);
    }
  }

  private checkMap(step: Raw, path: PathSegment[], scope: Scope): void {
    this.checkExpression(step.over, [...path, 'over'], scope, compileExpression);
    if (typeof step.concurrency === 'string') {
      this.checkExpression(step.concurrency, [...path, 'concurrency'], scope, compileExpression);
    }
    const itemName = typeof step.as === 'string' ? step.as : DEFAULT_ITEM_VARIABLE;
    if (RESERVED_LOCALS.has(itemName)) {
      this.report([...path, 'as'], `"${itemName}" is already a variable; pick another name for the item`);
    }
    this.checkStep(step.step, [...path, 'step'], { ...scope, locals: [itemName, 'index'], nested: true });
  }

  private checkRole(role: unknown, path: PathSegment[]): void {
    if (typeof role === 'string' && !this.roles.has(role)) {
      this.report(path, `unknown role "${role}" (known: ${list(this.roles)})`);
    }
  }

  private checkBatchRoute(step: Raw, path: PathSegment[]): void {
    if (typeof step.role !== 'string' || !this.options.batchRouteProblem) return;
    const overrides = isRecord(this.raw.roles)
      ? Object.fromEntries(
          Object.entries(this.raw.roles).flatMap(([role, target]) =>
            typeof target === 'string' ? [[role, target]] : [],
          ),
        )
      : {};
    const problem = this.options.batchRouteProblem(step.role, overrides);
    if (problem === undefined) return;
    const name = typeof step.id === 'string' ? `step "${step.id}"` : 'this step';
    this.report([...path, 'batch'], `${name} has batch: true, but ${problem}`);
  }

  private checkRoleOverrides(): void {
    if (!isRecord(this.raw.roles)) return;
    const configured = new Set(this.options.knownRoles ?? DEFAULT_KNOWN_ROLES);
    for (const [role, target] of Object.entries(this.raw.roles)) {
      if (typeof target !== 'string' || configured.has(target)) continue;
      const path = ['roles', role];
      const provider = PROVIDER_DEPLOYMENT.exec(target)?.[1];
      if (provider === undefined) {
        this.report(
          path,
          `"${target}" is neither a configured role (${list(configured)}) nor provider:deployment`,
        );
      } else if (this.options.knownProviders && !this.options.knownProviders.includes(provider)) {
        this.report(path, `unknown provider "${provider}" (known: ${list(this.options.knownProviders)})`);
      }
    }
  }

  private checkSchema(schema: unknown, path: PathSegment[]): void {
    if (!isRecord(schema)) return;
    for (const problem of checkJsonSchema(schema, { requireObjectRoot: true })) {
      this.report([...path, ...problem.path], problem.message);
    }
  }

  private checkTemplatesIn(value: unknown, path: PathSegment[], scope: Scope): void {
    if (typeof value === 'string') return this.checkExpression(value, path, scope, compileTemplate);
    if (Array.isArray(value))
      return value.forEach((item, i) => this.checkTemplatesIn(item, [...path, i], scope));
    if (isRecord(value)) {
      for (const [key, item] of Object.entries(value)) this.checkTemplatesIn(item, [...path, key], scope);
    }
  }

  private checkExpression(
    value: unknown,
    path: PathSegment[],
    scope: Scope,
    compile: (source: string) => CompiledTemplate,
  ): void {
    if (typeof value !== 'string') return;
    let compiled: CompiledTemplate;
    try {
      compiled = compile(value);
    } catch (error) {
      if (!(error instanceof ExpressionSyntaxError)) throw error;
      return this.report(path, error.message, { offsetInValue: error.offset });
    }
    for (const problem of checkTemplate(compiled, scope.locals)) {
      this.report(path, problem.message, { offsetInValue: problem.offset });
    }
    for (const reference of stepReferences(compiled)) {
      const message = this.referenceProblem(reference, scope);
      if (message) this.report(path, message, { offsetInValue: reference.offset });
    }
  }

  private referenceProblem(reference: StepReference, scope: Scope): string | undefined {
    const target = this.steps.get(reference.step);
    const readable = [...this.steps.values()]
      .filter((s) => s.order < scope.order && !s.parent)
      .map((s) => s.id);
    if (!target) {
      return `unknown step "${reference.step}" (readable here: ${readable.length ? list(readable) : 'none'})`;
    }
    if (target.parent) {
      return `step "${target.id}" is nested inside "${target.parent}"; read steps.${target.parent}.output instead`;
    }
    if (target.order === scope.order) {
      return scope.nested
        ? `steps.${target.id} is not finished while the steps nested in it run`
        : `a step cannot read its own output (steps.${target.id})`;
    }
    if (target.order > scope.order) {
      return `steps.${target.id} is a later step (steps[${target.order}]); a step can only read the steps before it`;
    }
    if (
      reference.field !== undefined &&
      !(STEP_RESULT_FIELDS as readonly string[]).includes(reference.field)
    ) {
      return `steps.${target.id} has no field "${reference.field}" (available: ${STEP_RESULT_FIELDS.join(', ')})`;
    }
    if (
      target.kind === 'parallel' &&
      reference.member !== undefined &&
      !target.branches.includes(reference.member)
    ) {
      return `parallel step "${target.id}" has no branch "${reference.member}" (branches: ${list(target.branches)})`;
    }
    return undefined;
  }

  private checkOutput(stepCount: number): void {
    const output = this.raw.output;
    if (typeof output !== 'string') return;
    const trimmed = output.trim();
    if (STEP_ID_PATTERN.test(trimmed) && !(SCOPE_ROOTS as readonly string[]).includes(trimmed)) {
      const target = this.steps.get(trimmed);
      if (!target || target.parent) {
        const topLevel = [...this.steps.values()].filter((s) => !s.parent).map((s) => s.id);
        this.report(['output'], `unknown step "${trimmed}" (steps: ${list(topLevel)})`);
      }
      return;
    }
    this.checkExpression(output, ['output'], { order: stepCount, locals: [] }, compileExpression);
  }
}

/** Every problem beyond the zod shape, plus the `workflow` steps for the cross-definition checks. */
export function checkDefinition(
  raw: unknown,
  options: DefinitionCheckOptions = {},
): { issues: Issue[]; calls: WorkflowCall[] } {
  if (!isRecord(raw)) return { issues: [], calls: [] };
  const checker = new DefinitionChecker(raw, options);
  checker.run();
  return { issues: checker.issues, calls: checker.calls };
}
