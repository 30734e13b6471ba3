import type { Step, WorkflowDefinition } from '../definitions/schema.js';

/** The workflows reachable through `POST /api/workflows/{name}`: the validated `workflows/*.yaml`. */
export interface WorkflowCatalog {
  get(name: string): WorkflowDefinition | undefined;
  names(): string[];
  /** Every definition `name` calls through `workflow` steps, directly or not, by name (not `name` itself). */
  referencedBy(name: string): Record<string, WorkflowDefinition>;
}

/** Names of the workflows a definition's `workflow` steps call, including those nested in maps and branches. */
export function calledWorkflows(definition: WorkflowDefinition): string[] {
  const called = new Set<string>();
  const visit = (step: Step): void => {
    switch (step.kind) {
      case 'workflow':
        called.add(step.workflow);
        break;
      case 'map':
        visit(step.step);
        break;
      case 'parallel':
        Object.values(step.branches).forEach(visit);
        break;
      default:
        break;
    }
  };
  definition.steps.forEach(visit);
  return [...called];
}

export function createWorkflowCatalog(definitions: ReadonlyMap<string, WorkflowDefinition>): WorkflowCatalog {
  return {
    get: (name) => definitions.get(name),
    names: () => [...definitions.keys()].sort(),
    referencedBy(name) {
      const found: Record<string, WorkflowDefinition> = {};
      const root = definitions.get(name);
      const pending = root ? calledWorkflows(root) : [];
      for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
        const definition = definitions.get(next);
        if (next === name || found[next] || !definition) continue;
        found[next] = definition;
        pending.push(...calledWorkflows(definition));
      }
      return found;
    },
  };
}
