import { describe, expect, it } from 'vitest';
import { ModelBatchFailureKind } from '../../src/shared/providerBatchTypes.js';
import { FailureKind } from '../../src/shared/modelTypes.js';
import { RunError, RunErrorKind } from '../../src/shared/runTypes.js';
import { budgetExceeded, childStepFailed, stepFailed } from '../../src/orchestrators/runStopped.js';

/**
 * The wire values of RunError.kind as runs, batch results and callbacks carry them. Written out here so a
 * rename in the enum fails this test instead of silently changing stored outputs.
 */
const WIRE_KINDS = [
  'rate_limited',
  'overloaded',
  'server_error',
  'timeout',
  'network',
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'unprocessable',
  'invalid_output',
  'max_tokens',
  'refusal',
  'context_window_exceeded',
  'batch_unsupported',
  'batch_failed',
  'canceled',
  'expired',
  'activity_failed',
  'no_structured_output',
  'tool_failed',
  'max_turns',
  'agent_failed',
  'unknown_tool',
  'child_failed',
  'unknown_workflow',
  'invalid_concurrency',
  'invalid_map_input',
  'approval_rejected',
  'approval_timeout',
  'invalid_attachment',
  'batch_timeout',
  'missing_result',
  'expression_error',
  'invalid_result',
  'step_error',
  'BudgetExceeded',
  'invalid_item',
  'invalid_json',
  'invalid_input',
  'line_too_long',
  'output_unavailable',
  'run_crashed',
  'lane_crashed',
  'not_run',
];

describe('RunErrorKind', () => {
  it('keeps every wire value, once', () => {
    expect(RunErrorKind.options).toEqual(WIRE_KINDS);
    expect(new Set(RunErrorKind.options).size).toBe(RunErrorKind.options.length);
  });

  it('extends the model and provider batch failure kinds, so a classified failure passes up unchanged', () => {
    for (const kind of [...FailureKind.options, ...ModelBatchFailureKind.options]) {
      expect(RunErrorKind.options).toContain(kind);
    }
  });

  it('builds the same error objects as before, key order included', () => {
    expect(JSON.stringify(stepFailed('plan', 'approval_rejected', 'no').error)).toBe(
      '{"stepId":"plan","kind":"approval_rejected","message":"no"}',
    );
    expect(JSON.stringify(stepFailed(undefined, 'step_error', 'x').error)).toBe(
      '{"kind":"step_error","message":"x"}',
    );
    expect(JSON.stringify(budgetExceeded('s', 'over').error)).toBe(
      '{"stepId":"s","kind":"BudgetExceeded","message":"over"}',
    );
    // A child's kind passes up as it is, even one this build does not write; absent, the fallback.
    expect(JSON.stringify(childStepFailed('map/1', 'legacy_kind', 'child_failed', 'm').error)).toBe(
      '{"stepId":"map/1","kind":"legacy_kind","message":"m"}',
    );
    expect(childStepFailed('a', undefined, 'agent_failed', 'm').error.kind).toBe('agent_failed');
  });

  it('still reads errors of any kind, as runs recorded by older builds carry them', () => {
    expect(RunError.parse({ kind: 'legacy_kind', message: 'm' })).toEqual({
      kind: 'legacy_kind',
      message: 'm',
    });
  });
});
