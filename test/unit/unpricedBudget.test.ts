import { describe, expect, it } from 'vitest';
import { WorkflowDefinition } from '../../src/definitions/schema.js';
import { createRunStarter, rolesUsedBy } from '../../src/functions/runStarter.js';
import { parseModelConfig } from '../../src/config/models.js';
import { unpricedProblem, unpricedRoutes } from '../../src/models/unpriced.js';
import { createWorkflowCatalog } from '../../src/shared/workflows.js';
import { definition } from './orchestrators/workflowFixtures.js';

const define = (name: string, steps: unknown[], extra: Record<string, unknown> = {}) =>
  WorkflowDefinition.parse(definition(steps, { name, ...extra }));

const budget = { maxCostUsd: 1 };
const planned = define('planned', [{ id: 'a', kind: 'llm', role: 'planner', prompt: 'p' }], { budget });
const mapped = define(
  'mapped',
  [
    {
      id: 'a',
      kind: 'map',
      over: '[1]',
      step: { id: 'b', kind: 'agent', role: 'bulk', tools: [], prompt: 'p' },
    },
  ],
  { budget, roles: { bulk: 'anthropic:my-bulk' } },
);
const unbudgeted = define('free', [{ id: 'a', kind: 'llm', role: 'worker', prompt: 'p' }]);
const caller = define('caller', [{ id: 'a', kind: 'workflow', workflow: 'child' }]);
const child = define('child', [{ id: 'a', kind: 'llm', role: 'worker', prompt: 'p' }], { budget });
const catalog = createWorkflowCatalog(
  new Map([planned, mapped, unbudgeted, caller, child].map((d) => [d.name, d])),
);

const starterFor = (env: Record<string, string>) =>
  createRunStarter({
    workflows: catalog,
    tools: () => ({}),
    callbacksEnabled: () => false,
    unpricedProblem: unpricedProblem(parseModelConfig(env)),
  });

describe('runs with a budget that could reach an unpriced deployment', () => {
  it('lists the roles model steps use, with each workflow’s own deployment for them', () => {
    expect(rolesUsedBy([mapped, planned])).toEqual([
      { role: 'bulk', route: { provider: 'anthropic', deployment: 'my-bulk' } },
      { role: 'planner' },
    ]);
  });

  it('finds unpriced deployments along the whole chain, fallbacks included', () => {
    const config = parseModelConfig({
      ANTHROPIC_API_KEY: 'k',
      MODEL_ROLE_PLANNER: 'anthropic:claude-opus-5-5',
      MODEL_ROLE_PLANNER_FALLBACK: 'anthropic:my-opus',
    });
    expect(unpricedRoutes(config, [{ role: 'planner' }, { role: 'nobody' }])).toEqual([
      { role: 'planner', provider: 'anthropic', deployment: 'my-opus' },
    ]);
  });

  it('refuses to start them, naming the deployment and MODEL_PRICES_JSON', async () => {
    const starter = starterFor({ ANTHROPIC_API_KEY: 'k', MODEL_ROLE_PLANNER: 'anthropic:my-opus' });
    const refused = await starter.prepare({ workflow: 'planned', input: {} });
    expect(refused).toEqual({
      kind: 'unpriced_budget',
      message:
        'Runs of "planned" are refused: "planned" has a budget, but role "planner" → anthropic:my-opus has ' +
        'no price, so the budget could not count its calls; add each deployment to MODEL_PRICES_JSON, e.g. ' +
        '{"my-deployment":{"input":1,"output":5}} (USD per million tokens)',
    });
    // A workflow's own deployment counts, and so does a called workflow's budget.
    expect((await starter.prepare({ workflow: 'mapped', input: {} })).kind).toBe('unpriced_budget');
    expect(starter.budgetProblem('mapped')).toContain('role "bulk" → anthropic:my-bulk');
    // Without a budget the run starts (the startup warning already named the deployment).
    expect((await starter.prepare({ workflow: 'free', input: {} })).kind).toBe('ready');
  });

  it('starts them once the deployment is priced, and in offline mode with the priced defaults', async () => {
    const priced = starterFor({
      ANTHROPIC_API_KEY: 'k',
      MODEL_ROLE_PLANNER: 'anthropic:my-opus',
      MODEL_PRICES_JSON: '{"my-opus":{"input":4,"output":20},"my-bulk":{"input":0.1,"output":0.5}}',
    });
    for (const workflow of ['planned', 'mapped', 'caller']) {
      expect((await priced.prepare({ workflow, input: {} })).kind, workflow).toBe('ready');
    }
    const offline = starterFor({});
    expect((await offline.prepare({ workflow: 'planned', input: {} })).kind).toBe('ready');
  });

  it('refuses a caller whose called workflow has the budget', () => {
    const starter = starterFor({ ANTHROPIC_API_KEY: 'k', MODEL_ROLE_WORKER: 'anthropic:my-haiku' });
    expect(starter.budgetProblem('caller')).toMatch(
      /^Runs of "caller" are refused: "child" \(called\) has a budget, but role "worker" → anthropic:my-haiku/,
    );
    expect(starter.budgetProblem('free')).toBeUndefined();
  });
});

describe('queue messages for such runs', () => {
  it('go to the poison queue with the reason, for single runs and batches alike', async () => {
    const { InvocationContext } = await import('@azure/functions');
    const { createWorkflowRequestsHandler } = await import('../../src/functions/queue/workflowRequests.js');
    const poisoned: { reason: string }[] = [];
    const handler = createWorkflowRequestsHandler({
      starter: starterFor({ ANTHROPIC_API_KEY: 'k', MODEL_ROLE_PLANNER: 'anthropic:my-opus' }),
      getClient: () => {
        throw new Error('nothing may start');
      },
      poison: {
        queueName: 'workflow-requests-poison',
        send: (entry) => {
          poisoned.push(entry);
          return Promise.resolve();
        },
      },
      blobExists: () => Promise.resolve(true),
      resultsContainer: () => 'results',
      allowedContainers: () => ['batches', 'results'],
      queueName: 'workflow-requests',
    });
    const context = new InvocationContext({ functionName: 't', logHandler: () => {} });
    await handler({ workflow: 'planned', input: {} }, context);
    await handler({ workflow: 'planned', itemsBlob: 'batches/items.jsonl' }, context);
    expect(poisoned.map((entry) => entry.reason)).toEqual([
      expect.stringMatching(
        /^Runs of "planned" are refused: .*anthropic:my-opus has no price.*MODEL_PRICES_JSON/,
      ),
      expect.stringMatching(/MODEL_PRICES_JSON.*; the batch was not started$/),
    ]);
  });
});
