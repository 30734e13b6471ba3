import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../src/shared/operatorTypes.js';
import {
  errorResponse,
  startScriptedModel,
  type RecordedModelRequest,
  type ScriptedModel,
} from '../support/scriptedModel.js';
import { startTestHost, type TestHost } from '../support/testHost.js';
import { eventually, operatorApi, startWorkflow } from './operatorClient.js';

/**
 * Retries in the timeline come from the Durable history: a model call that failed and was tried again,
 * in the run itself (placed by time) and in its agent sub-orchestrations (placed by instance id).
 */
const appDir = path.resolve(__dirname, '../..');
let host: TestHost;
let model: ScriptedModel;

const mentions = (text: string) => (request: RecordedModelRequest) =>
  JSON.stringify(request.body).includes(text);

beforeAll(async () => {
  model = await startScriptedModel({ ordered: false, unexpected: 'offline' });
  Object.assign(process.env, {
    OFFLINE_MODEL: 'off',
    FOUNDRY_BASE_URL: model.foundryBaseUrl,
    FOUNDRY_API_KEY: 'test-foundry-key',
    AZURE_OPENAI_ENDPOINT: model.url,
    AZURE_OPENAI_API_KEY: 'test-azure-openai-key',
  });
  host = await startTestHost({ appDir, skipIdleTime: true });
});

afterAll(async () => {
  await host?.stop();
  await model?.stop();
});

async function finishedDetail(id: string): Promise<RunDetail> {
  const api = operatorApi(host);
  return eventually(async () => {
    const run = await api.json<RunDetail>(`runs/${id}`);
    return ['Completed', 'Failed', 'Terminated'].includes(run.status) ? run : undefined;
  }, `run ${id}`);
}

describe('retries in the operator timeline', () => {
  it('counts a retried model call on the step that made it', async () => {
    model.expect({
      name: 'classify overloaded once',
      match: mentions('RETRY-TICKET'),
      respond: errorResponse(529, { retryAfterSeconds: 2, message: 'Overloaded' }),
    });
    const id = await startWorkflow(host, 'ticket-triage', { subject: 'RETRY-TICKET', body: 'It broke.' });
    const run = await finishedDetail(id);
    model.assertDone();
    expect(run.outcome).toBe('completed');
    const classify = run.timeline.find((step) => step.stepId === 'classify');
    expect(classify).toMatchObject({ status: 'completed', retries: 1 });
    expect(run.timeline.filter((step) => step.stepId !== 'classify').every((s) => s.retries === 0)).toBe(
      true,
    );
  });

  it('counts retries inside agent sub-orchestrations on their map step', async () => {
    model.expect({
      name: 'one researcher hits a 500',
      match: (r) => r.view?.model === 'claude-haiku-4-5' && mentions('RETRY-TOPIC')(r),
      respond: errorResponse(500, { message: 'Injected server error' }),
    });
    const id = await startWorkflow(host, 'research-report', { topic: 'RETRY-TOPIC research', questions: 2 });
    const run = await finishedDetail(id);
    model.assertDone();
    expect(run.outcome).toBe('completed');
    expect(run.timeline.map((step) => [step.stepId, step.retries])).toEqual([
      ['plan', 0],
      ['research', 1],
      ['report', 0],
      ['review', 0],
    ]);
    expect(run.timeline.at(-1)?.status).toBe('skipped');
  });
});
