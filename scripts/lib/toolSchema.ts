/**
 * The JSON Schema of HTTP tool files (`schemas/tool.schema.json`), generated from the zod schema in
 * src/tools/http/schema.ts, so editors (the `# yaml-language-server: $schema=` line) autocomplete and check
 * the structure the loader enforces. Templates, the input schema and auth settings are checked by the loader.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { schemaFileText } from './workflowSchema.js';
import {
  HttpToolAuth,
  HttpToolDefinition,
  HttpToolLimits,
  JsonTemplate,
} from '../../src/tools/http/schema.js';

export const TOOL_SCHEMA_PATH = join('schemas', 'tool.schema.json');

export function toolJsonSchema(): Record<string, unknown> {
  const registry = z.registry<{ id: string; description: string }>();
  registry.add(HttpToolAuth, {
    id: 'HttpToolAuth',
    description: 'A managed-identity token for a scope, or a key from an app setting, sent in a header.',
  });
  registry.add(HttpToolLimits, {
    id: 'HttpToolLimits',
    description: 'Time limit, largest response read, and the most text handed to the model.',
  });
  registry.add(JsonTemplate, {
    id: 'JsonTemplate',
    description: 'A JSON value whose strings are templates; exactly "{{ expr }}" keeps the value’s type.',
  });
  const schema = z.toJSONSchema(HttpToolDefinition, {
    target: 'draft-2020-12',
    io: 'input',
    metadata: registry,
  });
  const { $schema, ...rest } = schema;
  return {
    $schema,
    $id: 'https://durable-agents.dev/schemas/tool.schema.json',
    title: 'durable-agents HTTP tool',
    description:
      'An HTTP tool file (tools/<name>.yaml). Generated from src/tools/http/schema.ts by `npm run schemas`; do not edit.',
    ...rest,
  };
}

export function toolSchemaText(root: string): Promise<string> {
  return schemaFileText(root, TOOL_SCHEMA_PATH, toolJsonSchema());
}
