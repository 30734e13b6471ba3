/**
 * Run options that come from configuration. Orchestrators never read settings, so whatever entry point
 * starts a run (HTTP, queue, batch) hands them over in its input, where child runs inherit them.
 */
import type { Step, WorkflowDefinition } from '../definitions/schema.js';
import type { ModelBatchOptions } from '../shared/modelBatchTypes.js';
import type { RunOptions } from '../shared/runTypes.js';
import type { RunStarter } from './runStarter.js';

/** Whether any of these definitions has a `batch: true` llm step, nested ones included. */
export function usesModelBatches(definitions: readonly WorkflowDefinition[]): boolean {
  const visit = (step: Step): boolean => {
    switch (step.kind) {
      case 'llm':
        return step.batch === true;
      case 'map':
        return visit(step.step);
      case 'parallel':
        return Object.values(step.branches).some(visit);
      default:
        return false;
    }
  };
  return definitions.some((definition) => definition.steps.some(visit));
}

interface RunParts {
  readonly definition: WorkflowDefinition;
  readonly workflows: Readonly<Record<string, WorkflowDefinition>>;
  readonly options?: RunOptions | undefined;
}

/**
 * The starter, with the configured provider-batch polling added to the runs that have batch steps
 * (other runs' inputs stay as they were). Options a run already carries win.
 */
export function withModelBatchOptions(starter: RunStarter, modelBatch: ModelBatchOptions): RunStarter {
  const withOptions = <T extends RunParts>(run: T): T =>
    usesModelBatches([run.definition, ...Object.values(run.workflows)])
      ? { ...run, options: { ...run.options, modelBatch: { ...modelBatch, ...run.options?.modelBatch } } }
      : run;
  return {
    ...starter,
    template(workflow) {
      const template = starter.template(workflow);
      return template && withOptions(template);
    },
    async prepare(request) {
      const prepared = await starter.prepare(request);
      return prepared.kind === 'ready' ? { ...prepared, input: withOptions(prepared.input) } : prepared;
    },
  };
}
