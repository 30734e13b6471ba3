import * as semconv from '@opentelemetry/semantic-conventions';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import { describe, expect, it } from 'vitest';
import { ERROR_TYPE, GenAi, GenAiOperation } from '../../../src/telemetry/attributes.js';
import { GEN_AI_PROVIDER } from '../../../src/telemetry/spans.js';

/** The app keeps its own copy of the GenAI names (see attributes.ts); they must match the conventions'. */
describe('attribute names against @opentelemetry/semantic-conventions', () => {
  it('uses the conventions’ gen_ai attribute names', () => {
    const constants = incubating as unknown as Record<string, string>;
    const names = new Set(
      Object.entries(constants)
        .filter(([key]) => key.startsWith('ATTR_GEN_AI_'))
        .map(([, value]) => value),
    );
    expect(names.size).toBeGreaterThan(30);
    for (const [field, name] of Object.entries(GenAi))
      expect(names.has(name), `${field}: ${name}`).toBe(true);
  });

  it('uses the conventions’ values for operations and providers, and the stable error.type', () => {
    expect(GenAiOperation).toEqual({
      chat: incubating.GEN_AI_OPERATION_NAME_VALUE_CHAT,
      executeTool: incubating.GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
      invokeWorkflow: incubating.GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
    });
    expect(GEN_AI_PROVIDER).toEqual({
      foundry: incubating.GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
      anthropic: incubating.GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
      'azure-openai': incubating.GEN_AI_PROVIDER_NAME_VALUE_AZURE_AI_OPENAI,
      openai: incubating.GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
    });
    expect(ERROR_TYPE).toBe(semconv.ATTR_ERROR_TYPE);
  });
});
