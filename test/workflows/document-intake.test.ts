import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  afterToolResults,
  startWorkflowHarness,
  toolResultCount,
  structuredResponse,
  toolUseResponse,
  type ModelStepScript,
  type WorkflowHarness,
} from 'durable-agents/testing';
import { SAMPLE_INVOICE } from '../support/files.js';

/**
 * document-intake through the testing harness: the extraction reads the attached image, the check runs
 * in the real JavaScript sandbox (or a scripted run_code), and totals over the threshold wait for a
 * person: approved, rejected, or failed after the three-day timeout.
 */
const root = path.resolve(__dirname, '../..');
const WORKFLOW = path.join(root, 'workflows/document-intake.yaml');
const { document } = JSON.parse(
  readFileSync(path.join(root, 'scripts/samples/document-intake.json'), 'utf8'),
) as {
  document: { data: string; mediaType: string };
};
const FIELDS = SAMPLE_INVOICE;
const CHECK = { arithmeticOk: true, computedTotal: 145, differences: [] };
const CODE = [
  'const items = [[5, 4.5, 22.5], [2, 61.25, 122.5]];',
  'const total = items.reduce((sum, [q, p]) => sum + q * p, 0);',
  'console.log("computed", total);',
].join('\n');

function script(): ModelStepScript[] {
  return [
    { step: 'extract', role: 'worker', respond: structuredResponse(FIELDS) },
    {
      step: 'check',
      match: afterToolResults(0),
      respond: toolUseResponse('run_code', { language: 'javascript', code: CODE }),
    },
    { step: 'check', match: afterToolResults(1), respond: structuredResponse(CHECK) },
  ];
}

let harness: WorkflowHarness;

beforeAll(async () => {
  harness = await startWorkflowHarness({ workflows: WORKFLOW, storage: inject('azuriteConnectionString') });
});

afterAll(async () => {
  await harness?.stop();
});

describe('document-intake workflow', () => {
  it('extracts the fields, checks the sums in the real sandbox and auto-approves a small total', async () => {
    harness.expectModel(...script());
    const run = await harness.start('document-intake', { document });
    const result = await run.result();
    harness.model.assertDone();

    expect(result).toMatchObject({ status: 'Completed', outcome: 'completed' });
    expect(result.output).toEqual({
      fields: FIELDS,
      check: CHECK,
      decision: { route: 'auto-approved', approvedBy: null },
    });
    // The extraction request carried the image; the check's second turn saw what the sandbox printed.
    const extract = harness.model.requests.find((request) =>
      JSON.stringify(request.body).includes('"image"'),
    );
    expect(extract?.view?.model).toBe('claude-haiku-4-5');
    const checked = harness.model.requests.findLast((request) => toolResultCount(request) === 1);
    expect(JSON.stringify(checked?.body)).toContain('computed 145');
    expect(result.ledger.map((row) => [row.stepId, row.role, row.calls])).toEqual([
      ['extract', 'worker', 1],
      ['check', 'worker', 2],
    ]);
    expect(result.ledger[0]?.files).toMatchObject({ images: 1 });
    expect(result.timeline.map((step) => [step.stepId, step.status, step.toolCalls])).toEqual([
      ['extract', 'completed', 0],
      ['check', 'completed', 1],
      ['approve', 'skipped', 0],
    ]);
    await run.assertReplays();
  });

  it('routes a total over the threshold to a person and records who approved it', async () => {
    harness.scriptTool('run_code', 'computed 145');
    try {
      harness.expectModel(...script());
      const run = await harness.start('document-intake', { document, approvalThreshold: 100 });
      const waiting = await run.waitForApproval();
      expect(waiting).toMatchObject({ event: 'approve' });
      expect(waiting.message).toContain('Contoso Office Supply invoice of 145 EUR is over 100');
      await run.approve({ by: 'bob@example.com' });
      const result = await run.result();
      harness.model.assertDone();

      expect(result.output).toMatchObject({ decision: { route: 'approval', approvedBy: 'bob@example.com' } });
      expect(harness.toolCalls.at(-1)).toMatchObject({ tool: 'run_code', stepId: 'check' });
      await run.assertReplays();
    } finally {
      harness.scriptTool('run_code', undefined);
    }
  });

  it('fails the run when the approver rejects it', async () => {
    harness.expectModel(...script());
    const run = await harness.start('document-intake', { document, approvalThreshold: 100 });
    await run.waitForApproval();
    await run.reject({ by: 'carol', comment: 'not ours' });
    const result = await run.result();
    harness.model.assertDone();

    expect(result.outcome).toBe('failed');
    expect(result.error).toMatchObject({ stepId: 'approve', kind: 'approval_rejected' });
    expect(result.error?.message).toContain('not ours');
    await run.assertReplays();
  });

  it('fails the run when nobody decides within three days', async () => {
    harness.expectModel(...script());
    const run = await harness.start('document-intake', { document, approvalThreshold: 100 });
    await run.waitForApproval();
    await harness.advanceTime('P2D');
    expect((await run.view()).status).toBe('Running');
    await harness.advanceTime('P1D');
    const result = await run.result();
    harness.model.assertDone();

    expect(result.outcome).toBe('failed');
    expect(result.error).toMatchObject({ stepId: 'approve' });
    expect(result.timeline.at(-1)).toMatchObject({ stepId: 'approve', status: 'failed' });
    await run.assertReplays();
  });
});
