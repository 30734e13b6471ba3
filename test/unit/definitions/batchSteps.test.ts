import { describe, expect, it } from 'vitest';
import { LlmStep, WorkflowDefinition } from '../../../src/definitions/schema.js';
import { parseModelConfig } from '../../../src/config/models.js';
import { batchRouteProblem } from '../../../src/models/providerBatch.js';
import { usesModelBatches } from '../../../src/functions/runStarter.js';
import { errorLines } from './errorLines.js';
import { yaml } from './yamlText.js';

const FOUNDRY = { FOUNDRY_RESOURCE: 'myres', FOUNDRY_API_KEY: 'k' };
const ROLES = ['planner', 'worker', 'writer'];

const mapOfBatchItems = (roles = '') => yaml`
  name: t
  version: 1
  description: d
  input: { type: object }
  output: classify
  ${roles}
  steps:
    - id: classify
      kind: map
      over: input.tickets
      step:
        id: one
        kind: llm
        role: worker
        batch: true
        prompt: "Classify {{ item }}"
`;

describe('batch on llm steps', () => {
  it('is an optional boolean, false unless set', () => {
    const base = { id: 'a', kind: 'llm', role: 'worker', prompt: 'p' };
    expect(LlmStep.parse(base).batch).toBeUndefined();
    expect(LlmStep.parse({ ...base, batch: true }).batch).toBe(true);
    expect(LlmStep.safeParse({ ...base, batch: 'yes' }).error?.issues[0]?.message).toBe(
      'batch must be true or false',
    );
  });

  it('is not a key of agent or map steps', () => {
    const text = yaml`
      name: t
      version: 1
      description: d
      input: { type: object }
      output: a
      steps:
        - id: a
          kind: agent
          role: worker
          tools: [web_search]
          batch: true
          prompt: p
    `;
    expect(errorLines(text)).toEqual([
      expect.stringMatching(/^workflows\/t\.yaml:11:5 steps\[0\]\.batch: unknown key "batch"/),
    ]);
  });

  it('is refused at load time, naming file:line, step and reason, when the role only reaches Foundry', () => {
    const check = batchRouteProblem(parseModelConfig(FOUNDRY));
    expect(errorLines(mapOfBatchItems(), { knownRoles: ROLES, batchRouteProblem: check })).toEqual([
      'workflows/t.yaml:15:14 steps[0].step.batch: step "one" has batch: true, but role "worker" runs on ' +
        'foundry:claude-haiku-4-5, and Microsoft Foundry has no batch API (no Message Batches). Route the role, ' +
        'or one of its fallbacks, to the Claude API (anthropic:<model> with ANTHROPIC_API_KEY) or to an Azure ' +
        'OpenAI Global Batch deployment (azure-openai:<deployment>), e.g. ' +
        'MODEL_ROLE_WORKER_FALLBACK=anthropic:claude-haiku-4-5; or remove batch: true',
    ]);
  });

  it('passes when the chain has a deployment with a batch API, or the workflow routes the role to one', () => {
    const withFallback = batchRouteProblem(
      parseModelConfig({
        ...FOUNDRY,
        ANTHROPIC_API_KEY: 'sk',
        MODEL_ROLE_WORKER: 'foundry:claude-haiku-4-5',
        MODEL_ROLE_WORKER_FALLBACK: 'anthropic:claude-haiku-4-5',
      }),
    );
    expect(errorLines(mapOfBatchItems(), { knownRoles: ROLES, batchRouteProblem: withFallback })).toEqual([]);

    const foundryOnly = batchRouteProblem(parseModelConfig({ ...FOUNDRY, ANTHROPIC_API_KEY: 'sk' }));
    expect(foundryOnly('worker', {})).toMatch(/Microsoft Foundry has no batch API/);
    expect(foundryOnly('worker', { worker: 'anthropic:claude-haiku-4-5' })).toBeUndefined();
    expect(foundryOnly('worker', { worker: 'writer' })).toBeUndefined();
    expect(foundryOnly('worker', { worker: 'foundry:claude-sonnet-4-6' })).toMatch(
      /foundry:claude-sonnet-4-6/,
    );
    // Roles it cannot resolve are left to the role checks.
    expect(foundryOnly('oracle', {})).toBeUndefined();
  });

  it('runs anywhere offline: every role is the offline model, which has a batch API', () => {
    expect(batchRouteProblem(parseModelConfig({}))('worker', {})).toBeUndefined();
  });

  it('is found in nested steps when deciding whether a run needs batch options', () => {
    const parse = (text: string) => WorkflowDefinition.parse(JSON.parse(text));
    const plain = parse(
      JSON.stringify({
        name: 'p',
        version: 1,
        description: 'd',
        input: { type: 'object' },
        output: 'a',
        steps: [{ id: 'a', kind: 'llm', role: 'worker', prompt: 'p' }],
      }),
    );
    const nested = parse(
      JSON.stringify({
        ...plain,
        steps: [
          {
            id: 'a',
            kind: 'parallel',
            branches: {
              b: {
                id: 'b',
                kind: 'map',
                over: '[1]',
                step: { id: 'c', kind: 'llm', role: 'worker', prompt: 'p', batch: true },
              },
            },
          },
        ],
      }),
    );
    expect(usesModelBatches([plain])).toBe(false);
    expect(usesModelBatches([plain, nested])).toBe(true);
  });
});
