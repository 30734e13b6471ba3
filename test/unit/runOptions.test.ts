import { describe, expect, it } from 'vitest';
import { WorkflowDefinition } from '../../src/definitions/schema.js';
import { createRunStarter } from '../../src/functions/runStarter.js';
import { ModelConfigError, parseModelConfig } from '../../src/config/models.js';
import { createWorkflowCatalog } from '../../src/shared/workflows.js';

const define = (name: string, steps: unknown[]) =>
  WorkflowDefinition.parse({
    name,
    version: 1,
    description: 'd',
    input: { type: 'object' },
    output: 'a',
    steps,
  });

const plain = define('plain', [{ id: 'a', kind: 'llm', role: 'worker', prompt: 'p' }]);
const bulk = define('bulk', [
  {
    id: 'a',
    kind: 'map',
    over: '[1, 2]',
    step: { id: 'b', kind: 'llm', role: 'worker', batch: true, prompt: 'p' },
  },
]);
const caller = define('caller', [{ id: 'a', kind: 'workflow', workflow: 'bulk' }]);

const polling = { initialPollMs: 5_000, maxPollMs: 60_000, maxWaitMs: 7_200_000 };
const starter = createRunStarter({
  workflows: createWorkflowCatalog(new Map([plain, bulk, caller].map((d) => [d.name, d]))),
  tools: () => ({}),
  callbacksEnabled: () => false,
  modelBatch: polling,
});

describe('provider batch polling settings reach the runs that need them', () => {
  it('adds them to runs with batch steps, their own or a called workflow’s, and to no others', async () => {
    for (const workflow of ['bulk', 'caller']) {
      const prepared = await starter.prepare({ workflow, input: {} });
      expect(prepared.kind === 'ready' && prepared.input.options).toEqual({ modelBatch: polling });
      expect(starter.template(workflow)?.options).toEqual({ modelBatch: polling });
    }
    const prepared = await starter.prepare({ workflow: 'plain', input: {} });
    expect(prepared.kind === 'ready' && 'options' in prepared.input).toBe(false);
    expect(starter.template('plain')).not.toHaveProperty('options');
    expect(await starter.prepare({ workflow: 'nope', input: {} })).toMatchObject({
      kind: 'unknown_workflow',
    });
  });

  it('are parsed from MODEL_BATCH_* settings, with every problem listed', () => {
    expect(parseModelConfig({}).batchPolling).toEqual({
      initialPollMs: 30_000,
      maxPollMs: 600_000,
      maxWaitMs: 86_400_000,
    });
    expect(
      parseModelConfig({
        MODEL_BATCH_POLL_SECONDS: '10',
        MODEL_BATCH_POLL_MAX_SECONDS: '120',
        MODEL_BATCH_MAX_WAIT_HOURS: '2',
      }).batchPolling,
    ).toEqual({ initialPollMs: 10_000, maxPollMs: 120_000, maxWaitMs: 7_200_000 });
    let error: unknown;
    try {
      parseModelConfig({
        MODEL_BATCH_POLL_SECONDS: '300',
        MODEL_BATCH_POLL_MAX_SECONDS: '60',
        MODEL_BATCH_MAX_WAIT_HOURS: '0',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ModelConfigError);
    expect((error as ModelConfigError).problems).toEqual([
      'MODEL_BATCH_MAX_WAIT_HOURS must be a whole number from 1 to 168 (got "0")',
      'MODEL_BATCH_POLL_MAX_SECONDS (60) must be at least MODEL_BATCH_POLL_SECONDS (300)',
    ]);
  });
});
