import { describe, expect, it } from 'vitest';
import { createDefaultCallModelActivity } from '../../src/activities/callModel.js';
import { getModelConfig } from '../../src/models/config.js';

/**
 * Opt-in checks against the real endpoints configured in the environment (Foundry, Azure OpenAI,
 * the Claude API, OpenAI). They cost a few cents; CI has no credentials, so they skip there.
 * Run: LIVE_TESTS=1 FOUNDRY_RESOURCE=… FOUNDRY_API_KEY=… AZURE_OPENAI_ENDPOINT=… npx vitest run test/live
 */
const configured = [
  'FOUNDRY_RESOURCE',
  'FOUNDRY_BASE_URL',
  'ANTHROPIC_API_KEY',
  'AZURE_OPENAI_ENDPOINT',
  'OPENAI_API_KEY',
].filter((name) => process.env[name]);
const skipReason =
  process.env.LIVE_TESTS !== '1'
    ? 'LIVE_TESTS is not 1'
    : configured.length === 0
      ? 'no model endpoint is configured (set FOUNDRY_RESOURCE, AZURE_OPENAI_ENDPOINT, ANTHROPIC_API_KEY or OPENAI_API_KEY)'
      : undefined;
if (skipReason) console.warn(`[live model tests skipped] ${skipReason}`);

describe.skipIf(skipReason !== undefined)('live model endpoints', () => {
  const callModel = createDefaultCallModelActivity();
  const roles = ['planner', 'worker', 'writer'] as const;

  it.each(roles)('the %s role answers a structured request on its configured deployment', async (role) => {
    const config = getModelConfig();
    expect(config.offline).toBe(false);
    const result = await callModel({
      role,
      runId: 'live-test',
      stepId: role,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Name one prime number greater than 10.' }] },
      ],
      outputSchema: {
        type: 'object',
        additionalProperties: false,
        required: ['prime'],
        properties: { prime: { type: 'integer' } },
      },
      maxTokens: 200,
    });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.offline).toBe(false);
    expect((result.structured as { prime: number }).prime).toBeGreaterThan(10);
    expect(
      result.usage.inputTokens + result.usage.cacheReadTokens + result.usage.cacheWriteTokens,
    ).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });
});
