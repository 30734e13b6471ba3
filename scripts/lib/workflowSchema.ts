/**
 * The JSON Schema of workflow files (`schemas/workflow.schema.json`), generated from the zod
 * schemas in src/definitions/schema.ts so editors (the YAML extension's `# yaml-language-server:
 * $schema=` line) autocomplete and check the same structure the loader enforces.
 *
 * Structure only, like the zod schemas: refinements (reserved step ids, durations, positive
 * budgets), references between steps, tools, roles and expressions are checked by the loader
 * (`npm run validate`), not by the editor.
 */
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { z } from 'zod';
import {
  AgentStep,
  ApprovalStep,
  Budget,
  LlmStep,
  MapStep,
  ParallelStep,
  WorkflowCallStep,
  WorkflowDefinition,
} from '../../src/definitions/schema.js';

/**
 * Names and one-line help for the schemas editors show; each becomes a `$defs` entry (a step kind
 * appears in `steps`, in a map's `step` and in parallel branches, and is written once).
 */
function metadataRegistry() {
  const registry = z.registry<{ id: string; description: string }>();
  registry.add(LlmStep, {
    id: 'LlmStep',
    description: 'One model call: a prompt in, text or structured output out.',
  });
  registry.add(AgentStep, {
    id: 'AgentStep',
    description: 'A tool-using loop offered only the tools listed, for at most maxTurns turns.',
  });
  registry.add(MapStep, {
    id: 'MapStep',
    description: 'Runs its nested step once per item of the array `over` yields.',
  });
  registry.add(ParallelStep, {
    id: 'ParallelStep',
    description: 'Runs named branches at once; the output is an object keyed by branch name.',
  });
  registry.add(ApprovalStep, {
    id: 'ApprovalStep',
    description: 'Waits for a person to approve (external event) or for the timeout.',
  });
  registry.add(WorkflowCallStep, {
    id: 'WorkflowCallStep',
    description: 'Runs another workflow as a child run; its output is the child’s output.',
  });
  registry.add(Budget, { id: 'Budget', description: 'Limits on the run’s total model cost and tokens.' });
  return registry;
}

/** Where the schema is committed, relative to the repository root. */
export const WORKFLOW_SCHEMA_PATH = join('schemas', 'workflow.schema.json');

/**
 * `io: 'input'` describes what a file may contain: fields with a default (maxTurns, as,
 * concurrency, onTimeout, workflow input) are optional. zod 4's converter:
 * https://zod.dev/json-schema (`z.toJSONSchema`, options `target`, `io`, `reused`).
 */
export function workflowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(WorkflowDefinition, {
    target: 'draft-2020-12',
    io: 'input',
    metadata: metadataRegistry(),
  });
  const { $schema, ...rest } = schema;
  return {
    $schema,
    $id: 'https://durable-agents.dev/schemas/workflow.schema.json',
    title: 'durable-agents workflow definition',
    description:
      'A workflow file (workflows/<name>.yaml). Generated from src/definitions/schema.ts by `npm run schemas`; do not edit.',
    ...rest,
  };
}

/** A schema file's text as committed: formatted by the repository's prettier settings, so lint passes. */
export async function schemaFileText(root: string, relative: string, schema: object): Promise<string> {
  const file = join(root, relative);
  const options = (await resolveConfig(file)) ?? {};
  return format(JSON.stringify(schema, null, 2), { ...options, filepath: file });
}

export function workflowSchemaText(root: string): Promise<string> {
  return schemaFileText(root, WORKFLOW_SCHEMA_PATH, workflowJsonSchema());
}
