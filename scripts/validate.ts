/**
 * `npm run validate`: checks every definition in workflows/ and prints all problems at once, or a
 * summary of the valid definitions.
 */
import { join } from 'node:path';
import { formatDefinitionErrors } from '../src/definitions/errors.js';
import { loadWorkflowDirectory } from '../src/definitions/loadWorkflows.js';
import type { Step, WorkflowDefinition } from '../src/definitions/schema.js';

function nestedSteps(step: Step): Step[] {
  if (step.kind === 'map') return [step, step.step];
  if (step.kind === 'parallel') return [step, ...Object.values(step.branches).flatMap(nestedSteps)];
  return [step];
}

function summarize(definition: WorkflowDefinition): string[] {
  const steps = definition.steps.flatMap(nestedSteps);
  const tools = new Set(steps.flatMap((step) => (step.kind === 'agent' ? step.tools : [])));
  return [
    definition.name,
    String(definition.version),
    String(steps.length),
    [...tools].sort().join(', ') || '-',
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function main(): number {
  const directory = process.argv[2] ?? join(process.cwd(), 'workflows');
  const { definitions, errors } = loadWorkflowDirectory(directory);
  if (errors.length > 0) {
    console.error(formatDefinitionErrors(errors));
    console.error(`\n${errors.length} problem${errors.length === 1 ? '' : 's'} in ${directory}`);
    return 1;
  }
  if (definitions.size === 0) {
    console.error(`no workflow definitions (*.yaml) in ${directory}`);
    return 1;
  }
  const rows = [...definitions.values()].sort((a, b) => a.name.localeCompare(b.name)).map(summarize);
  console.log(table([['name', 'version', 'steps', 'tools'], ...rows]));
  console.log(`\n${definitions.size} workflow definition${definitions.size === 1 ? '' : 's'} valid`);
  return 0;
}

process.exitCode = main();
