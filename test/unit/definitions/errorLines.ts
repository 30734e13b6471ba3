import { formatDefinitionErrors } from '../../../src/definitions/errors.js';
import { parseWorkflowSources, type WorkflowSetOptions } from '../../../src/definitions/workflowSet.js';

/** Every error for `workflows/<name>.yaml` with this text, one formatted line each. */
export function errorLines(text: string, options: WorkflowSetOptions = {}, name = 't'): string[] {
  return linesFor([{ name, text }], options);
}

/** Every error for several files validated together. */
export function linesFor(
  files: { name: string; text: string }[],
  options: WorkflowSetOptions = {},
): string[] {
  const sources = files.map(({ name, text }) => ({ file: `workflows/${name}.yaml`, name, text }));
  const { errors } = parseWorkflowSources(sources, options);
  return errors.length === 0 ? [] : formatDefinitionErrors(errors).split('\n');
}
