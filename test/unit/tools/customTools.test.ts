import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import businessDays from '../../../src/tools/custom/businessDays.js';
import { loadCustomTools } from '../../../src/tools/customTools.js';
import { defineTool, ToolError, type ToolContext } from '../../../src/tools/defineTool.js';
import { toolRegistryFromSources } from '../../../src/tools/registry.js';

const envelope = (name: string, args: Record<string, unknown>, limits?: Record<string, number>) => ({
  runId: 'run-1',
  stepId: 'plan',
  toolUseId: 'toolu_1',
  name,
  arguments: args,
  ...(limits ? { limits } : {}),
});

describe('the example TypeScript tool (src/tools/custom/businessDays.ts)', () => {
  const tool = businessDays.build();

  it('offers the model a JSON Schema made from its zod input, descriptions included', () => {
    expect(tool.spec.name).toBe('business_days_between');
    expect(tool.spec.inputSchema).toMatchObject({
      type: 'object',
      required: ['from', 'to'],
      properties: { from: { type: 'string', description: 'The first date, YYYY-MM-DD (not counted).' } },
    });
    expect(tool.spec.inputSchema).not.toHaveProperty('$schema');
  });

  it('counts working days, skipping weekends and holidays', async () => {
    const result = await tool.handler(
      envelope('business_days_between', { from: '2026-12-04', to: '2026-12-14', holidays: ['2026-12-08'] }),
    );
    expect(result).toMatchObject({
      isError: false,
      content: '5 working days from 2026-12-04 to 2026-12-14.',
      data: { days: 5 },
      toolUseId: 'toolu_1',
    });
  });

  it('answers bad arguments with invalid_arguments the model can fix', async () => {
    const badDate = await tool.handler(
      envelope('business_days_between', { from: '4 Dec', to: '2026-12-14' }),
    );
    expect(badDate).toMatchObject({ isError: true, errorKind: 'invalid_arguments' });
    expect(badDate.content).toContain('must be a date written YYYY-MM-DD');
    const reversed = await tool.handler(
      envelope('business_days_between', { from: '2026-12-14', to: '2026-12-04' }),
    );
    expect(reversed).toMatchObject({ isError: true, errorKind: 'invalid_arguments' });
    expect(reversed.content).toContain('is before');
  });
});

describe('defineTool', () => {
  it('stops a handler at its time limit, aborting its signal, as a retryable timeout', async () => {
    let signal: AbortSignal | undefined;
    const slow = defineTool({
      name: 'slow',
      description: 'Never answers.',
      input: z.object({}),
      timeoutMs: 5_000,
      handler: (_args, context: ToolContext) => {
        signal = context.signal;
        return new Promise(() => undefined);
      },
    }).build();
    const result = await slow.handler(envelope('slow', {}, { timeoutMs: 50 }));
    expect(result).toMatchObject({ isError: true, errorKind: 'timeout', retryable: true });
    expect(result.content).toBe('slow did not finish within 50 ms.');
    expect(signal?.aborted).toBe(true);
  });

  it('maps ToolError and unexpected throws to typed results and caps the text', async () => {
    const failing = (error: Error) =>
      defineTool({
        name: 'failing',
        description: 'Fails.',
        input: z.object({}),
        handler: () => Promise.reject(error),
      }).build();
    expect(
      await failing(
        new ToolError('CRM is busy', { kind: 'rate_limited', retryable: true, retryAfterMs: 500 }),
      ).handler(envelope('failing', {})),
    ).toMatchObject({
      errorKind: 'rate_limited',
      retryable: true,
      retryAfterMs: 500,
      content: 'CRM is busy',
    });
    expect(await failing(new TypeError('x is undefined')).handler(envelope('failing', {}))).toMatchObject({
      errorKind: 'runtime_error',
      retryable: false,
      content: 'failing failed: x is undefined',
    });
    const chatty = defineTool({
      name: 'chatty',
      description: 'Talks.',
      input: z.object({}),
      maxOutputBytes: 10,
      handler: () => Promise.resolve('0123456789abcdef'),
    }).build();
    expect(await chatty.handler(envelope('chatty', {}))).toMatchObject({
      content: '0123456789',
      truncated: true,
    });
  });

  it('refuses a name a provider would refuse', () => {
    expect(() =>
      defineTool({
        name: 'has space',
        description: 'd',
        input: z.object({}),
        handler: () => Promise.resolve(''),
      }),
    ).toThrow('defineTool: name "has space" must be 1-64 letters, digits, "_" or "-"');
  });
});

describe('loadCustomTools', () => {
  it('loads every compiled module and refuses one that exports no tool', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'custom-tools-'));
    try {
      for (const file of ['a.js', 'a.d.ts', 'a.js.map', 'b.js', 'b.test.js'])
        writeFileSync(path.join(dir, file), '');
      const modules: Record<string, unknown> = {
        'a.js': { default: businessDays },
        'b.js': { helper: 1 },
      };
      const load = (file: string) => modules[path.basename(file)];
      expect(() => loadCustomTools(dir, load)).toThrow(
        `${path.join(dir, 'b.js')} exports no tool; export the result of defineTool({ name, description, input, handler })`,
      );
      modules['b.js'] = { one: businessDays, again: businessDays };
      expect(loadCustomTools(dir, load).map((tool) => tool.name)).toEqual([
        'business_days_between',
        'business_days_between',
      ]);
      expect(loadCustomTools(path.join(dir, 'absent'), load)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('feeds a registry where a name two sources offer is an error naming both', () => {
    const tool = businessDays.build();
    expect(() =>
      toolRegistryFromSources([
        { name: 'built-in', tools: [tool] },
        { name: 'TypeScript tools in custom/', tools: [tool] },
      ]),
    ).toThrow(
      'Two tools are named "business_days_between" (one in built-in, one in TypeScript tools in custom/); rename one',
    );
    const registry = toolRegistryFromSources([{ name: 'x', tools: [tool] }]);
    expect(registry.names()).toEqual(['business_days_between']);
  });
});
