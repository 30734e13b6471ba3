import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  restoreOptionalProperties,
  strictSizeProblem,
  toOpenAIStrictSchema,
} from '../../../src/models/openaiSchema.js';
import { compileOutputSchema } from '../../../src/models/structuredOutput.js';
import { strictSchemaProblem } from '../../../src/offline/openaiRules.js';
import { seededRandom } from '../../../src/offline/prng.js';
import { valueFromSchema } from '../../../src/offline/schemaValue.js';

describe('toOpenAIStrictSchema', () => {
  it('closes objects, makes optional properties required-but-nullable and moves unsupported keywords', () => {
    const original = {
      type: 'object',
      properties: {
        title: { type: 'string', description: 'Title', minLength: 5 },
        url: { type: 'string', format: 'uri' },
        when: { type: 'string', format: 'date' },
        kind: { type: 'string', enum: ['a', 'b'] },
        tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, maxItems: 3 },
        one: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
      },
      required: ['title'],
    };
    const sent = toOpenAIStrictSchema(original);
    expect(sent.strict).toBe(true);
    expect(sent.schema).toEqual({
      type: 'object',
      properties: {
        title: { type: 'string', description: 'Title (minLength: 5)' },
        url: { type: ['string', 'null'], description: '(format: uri)' },
        when: { type: ['string', 'null'], format: 'date' },
        kind: { type: ['string', 'null'], enum: ['a', 'b', null] },
        tags: {
          type: ['array', 'null'],
          items: { type: 'string' },
          maxItems: 3,
          description: '(uniqueItems: true)',
        },
        one: { anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }] },
      },
      required: ['title', 'url', 'when', 'kind', 'tags', 'one'],
      additionalProperties: false,
    });
    expect(strictSchemaProblem(sent.schema)).toBeUndefined();
    expect(original.properties.url).toEqual({ type: 'string', format: 'uri' });
  });

  it('keeps unrepresentable schemas non-strict and unchanged', () => {
    for (const schema of [
      { type: 'array', items: { type: 'string' } },
      { type: 'object', additionalProperties: true },
      { type: 'object', properties: { a: { allOf: [{ type: 'string' }] } } },
      { type: 'object', properties: { a: { type: 'array' } } },
    ]) {
      expect(toOpenAIStrictSchema(schema)).toEqual({ schema, strict: false });
    }
  });

  it('makes every shipped workflow schema strict-valid (research-report uses format: uri)', () => {
    const schemas: Record<string, unknown>[] = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (typeof node === 'object' && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'outputSchema') schemas.push(value as Record<string, unknown>);
          else collect(value);
        }
      }
    };
    for (const file of readdirSync('workflows').filter((name) => name.endsWith('.yaml'))) {
      collect(parse(readFileSync(`workflows/${file}`, 'utf8')));
    }
    expect(schemas.length).toBeGreaterThanOrEqual(3);
    expect(schemas.some((schema) => JSON.stringify(schema).includes('"format":"uri"'))).toBe(true);
    for (const schema of schemas) {
      const sent = toOpenAIStrictSchema(schema);
      expect(sent.strict).toBe(true);
      expect(strictSchemaProblem(sent.schema)).toBeUndefined();
    }
  });
});

describe("OpenAI strict mode's size limits, checked before sending", () => {
  const nested = (levels: number): Record<string, unknown> => {
    let node: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < levels; i++) {
      node = { type: 'object', additionalProperties: false, required: ['next'], properties: { next: node } };
    }
    return node;
  };
  const wide = (count: number) => ({
    type: 'object',
    additionalProperties: false,
    required: Array.from({ length: count }, (_, i) => `p${i}`),
    properties: Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, { type: 'integer' }])),
  });
  const enumOf = (count: number, width = 1) => ({
    type: 'object',
    additionalProperties: false,
    required: ['pick'],
    properties: {
      pick: { type: 'string', enum: Array.from({ length: count }, (_, i) => String(i).padStart(width, 'x')) },
    },
  });

  it.each([
    ['10 levels of nesting', nested(10), nested(11), /nesting is 11 levels deep/],
    ['5,000 properties', wide(5000), wide(5001), /5001 object properties/],
    ['1,000 enum values', enumOf(1000), enumOf(1001), /1001 enum values/],
    [
      '120,000 characters',
      enumOf(1000, 119),
      enumOf(1000, 121),
      /characters of property names and enum values/,
    ],
  ])(
    'sends strict up to %s and non-strict past it, which the offline model agrees with',
    (_, at, past, why) => {
      const ok = toOpenAIStrictSchema(at);
      expect(ok.strict).toBe(true);
      expect(strictSchemaProblem(ok.schema)).toBeUndefined();

      const over = toOpenAIStrictSchema(past);
      expect(over).toEqual({ schema: past, strict: false });
      // Sent strict, the endpoint (here the offline model's rule) would refuse it.
      expect(strictSizeProblem(past)).toMatch(why);
      expect(strictSchemaProblem(past)).toBeDefined();
    },
  );
});

describe('restoreOptionalProperties', () => {
  const original = {
    type: 'object',
    $defs: {
      item: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['a'] },
    },
    properties: {
      title: { type: 'string' },
      note: { type: 'string' },
      maybe: { type: ['string', 'null'] },
      items: { type: 'array', items: { $ref: '#/$defs/item' } },
    },
    required: ['title', 'maybe'],
    additionalProperties: false,
  };

  it('drops nulls of originally optional properties, at any depth, so the original schema validates', () => {
    const answer = {
      title: 't',
      note: null,
      maybe: null,
      items: [
        { a: 'x', b: null },
        { a: 'y', b: 'z' },
      ],
    };
    expect(compileOutputSchema(original)(answer).ok).toBe(false);
    const restored = restoreOptionalProperties(original, answer);
    expect(restored).toEqual({ title: 't', maybe: null, items: [{ a: 'x' }, { a: 'y', b: 'z' }] });
    expect(compileOutputSchema(original)(restored).ok).toBe(true);
  });

  it('keeps nulls of required or nullable properties (the original schema judges them)', () => {
    const answer = { title: null, maybe: null };
    expect(restoreOptionalProperties(original, answer)).toEqual(answer);
  });
});

describe('the offline model follows constraints moved into descriptions', () => {
  it('answers the strict form of a format: uri schema with URIs the original schema accepts', () => {
    const original = {
      type: 'object',
      properties: {
        sources: { type: 'array', items: { type: 'string', format: 'uri' }, minItems: 2 },
        title: { type: 'string', minLength: 40 },
      },
      required: ['sources', 'title'],
      additionalProperties: false,
    };
    const sent = toOpenAIStrictSchema(original);
    for (let seed = 1; seed <= 5; seed++) {
      const value = valueFromSchema(sent.schema, seededRandom(seed));
      expect(compileOutputSchema(original)(restoreOptionalProperties(original, value))).toMatchObject({
        ok: true,
      });
    }
  });
});
