/**
 * `npm run validate [workflows-dir]`: checks every definition in workflows/ and the HTTP tool files in
 * tools/ beside it, and prints all problems at once, or a summary of the valid definitions. Settings a
 * tool's `auth` names are not checked here (the app checks them at startup).
 */
import { dirname, join } from 'node:path';
import { formatDefinitionErrors } from '../src/definitions/errors.js';
import { loadWorkflowDirectory } from '../src/definitions/loadWorkflows.js';
import { DEFAULT_KNOWN_TOOLS, type Step, type WorkflowDefinition } from '../src/definitions/schema.js';
import { loadCustomTools } from '../src/tools/customTools.js';
import { loadHttpToolDirectory } from '../src/tools/http/loadHttpTools.js';

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
  const httpTools = loadHttpToolDirectory(join(dirname(directory), 'tools'));
  const knownTools = [
    ...DEFAULT_KNOWN_TOOLS,
    ...httpTools.tools.map((tool) => tool.definition.name),
    ...loadCustomTools().map((tool) => tool.name),
  ];
  const workflows = loadWorkflowDirectory(directory, { knownTools });
  const definitions = workflows.definitions;
  const errors = [...httpTools.errors, ...workflows.errors];
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
