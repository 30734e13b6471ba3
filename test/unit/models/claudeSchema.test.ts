/**
 * The app's structured-output schemas as Claude gets them (src/models/claudeSchema.ts, the SDK's
 * transformJSONSchema): the shipped workflows' real schemas are rejected raw and accepted transformed by the
 * offline model's rules, and what the offline model answers to a transformed schema fits the original.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { claudeOutputSchema } from '../../../src/models/claudeSchema.js';
import { parseModelConfig } from '../../../src/config/models.js';
import { createModelProviders } from '../../../src/models/providers.js';
import { compileOutputSchema } from '../../../src/models/structuredOutput.js';
import { claudeSchemaProblem } from '../../../src/offline/claudeSchemaRules.js';
import { constraintsFromDescription } from '../../../src/offline/descriptionHints.js';
import { startOfflineModelServer, type OfflineModelServer } from '../../../src/offline/offlineModelServer.js';
import { seededRandom } from '../../../src/offline/prng.js';
import { valueFromSchema } from '../../../src/offline/schemaValue.js';
import type { JsonSchema } from '../../../src/shared/modelTypes.js';

const WORKFLOWS = join(__dirname, '../../../workflows');

function outputSchemas(node: unknown, found: JsonSchema[] = []): JsonSchema[] {
  if (Array.isArray(node)) for (const item of node) outputSchemas(item, found);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'outputSchema' && typeof value === 'object' && value !== null)
        found.push(value as JsonSchema);
      else outputSchemas(value, found);
    }
  }
  return found;
}

const shipped = readdirSync(WORKFLOWS)
  .filter((name) => name.endsWith('.yaml'))
  .flatMap((name) =>
    outputSchemas(parse(readFileSync(join(WORKFLOWS, name), 'utf8'))).map(
      (schema, index) => [`${name} #${index + 1}`, schema] as const,
    ),
  );

describe('claudeOutputSchema', () => {
  it('finds the shipped workflows and their schemas', () => {
    expect(shipped.length).toBeGreaterThanOrEqual(3);
    // ticket-triage and research-report use keywords Claude rejects (issue 15).
    expect(shipped.some(([, schema]) => claudeSchemaProblem(schema, 'schema') !== undefined)).toBe(true);
  });

  it.each(shipped)(
    '%s: transformed, Claude accepts it, and offline answers fit the original',
    (_name, schema) => {
      const sent = claudeOutputSchema(schema);
      expect(claudeSchemaProblem(sent, 'schema')).toBeUndefined();
      const check = compileOutputSchema(schema);
      for (let seed = 1; seed <= 25; seed++) {
        const value = valueFromSchema(sent, seededRandom(seed));
        const result = check(value);
        expect(result.ok, `seed ${seed}: ${result.ok ? '' : result.problem}`).toBe(true);
      }
    },
  );

  it('moves unsupported keywords into the description and keeps supported ones', () => {
    const sent = claudeOutputSchema({
      type: 'object',
      properties: {
        score: { type: 'number', minimum: 0, maximum: 1, description: 'Confidence' },
        tags: { type: 'array', items: { type: 'string', format: 'uri' }, minItems: 1, maxItems: 3 },
      },
      required: ['score', 'tags'],
    });
    expect(sent).toEqual({
      type: 'object',
      properties: {
        score: { type: 'number', description: 'Confidence\n\n{minimum: 0, maximum: 1}' },
        tags: {
          type: 'array',
          items: { type: 'string', format: 'uri' },
          minItems: 1,
          description: '{maxItems: 3}',
        },
      },
      additionalProperties: false,
      required: ['score', 'tags'],
    });
  });

  it('names the problem when a schema cannot be sent to Claude', () => {
    expect(() => claudeOutputSchema({ type: 'object', properties: { x: {} } })).toThrow(
      /outputSchema cannot be sent to Claude: JSON schema must have a type/,
    );
  });
});

describe('constraintsFromDescription (offline model reading the SDK trailer)', () => {
  it('reads the trailer the SDK writes, and nothing else', () => {
    expect(constraintsFromDescription('Confidence\n\n{minimum: 0, maximum: 1}')).toEqual({
      minimum: 0,
      maximum: 1,
    });
    expect(constraintsFromDescription('{pattern: "^a, b: c$", maxLength: 9}')).toEqual({
      pattern: '^a, b: c$',
      maxLength: 9,
    });
    expect(constraintsFromDescription('A set {like this} in prose')).toEqual({});
    expect(constraintsFromDescription(undefined)).toEqual({});
  });
});

describe('the Claude provider sends schemas Claude accepts', () => {
  let server: OfflineModelServer;
  beforeEach(async () => {
    server = await startOfflineModelServer();
  });
  afterEach(async () => {
    await server.stop();
  });
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      summary: { type: 'string', minLength: 10, maxLength: 80 },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      items: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 4 },
    },
    required: ['summary', 'confidence', 'items'],
  };

  it.each([
    ['native', 'anthropic'],
    ['tool', 'foundry'],
  ] as const)(
    '%s mode (%s): the offline model accepts the request and the answer fits the original',
    async (mode, kind) => {
      const env =
        kind === 'anthropic'
          ? {
              ANTHROPIC_BASE_URL: server.anthropicBaseUrl,
              ANTHROPIC_API_KEY: 'sk-ant-x',
              ANTHROPIC_STRUCTURED_OUTPUT: mode,
            }
          : {
              FOUNDRY_BASE_URL: server.foundryBaseUrl,
              FOUNDRY_API_KEY: 'key',
              FOUNDRY_STRUCTURED_OUTPUT: mode,
            };
      const provider = await createModelProviders(parseModelConfig(env)).get(kind);
      const result = await provider.call({
        deployment: 'claude-opus-4-8',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarize' }] }],
        outputSchema: schema,
        maxTokens: 1024,
      });
      expect(compileOutputSchema(schema)(result.structured?.value)).toMatchObject({ ok: true });
      const body = server.requests.at(-1)?.body as Record<string, unknown>;
      const sent =
        mode === 'native'
          ? (body.output_config as { format: { schema: JsonSchema } }).format.schema
          : (body.tools as { input_schema: JsonSchema }[]).at(-1)?.input_schema;
      expect(sent).toEqual(claudeOutputSchema(schema));
    },
  );
});
