import { describe, expect, it } from 'vitest';
import { invalidInput, problemResponse } from '../../src/functions/problem.js';
import { parseIsoDuration } from '../../src/shared/duration.js';
import { ApprovalDecision } from '../../src/shared/schemas.js';

describe('parseIsoDuration', () => {
  it.each([
    ['PT30M', 1_800_000],
    ['PT1H', 3_600_000],
    ['P1DT12H', 129_600_000],
    ['P2W', 1_209_600_000],
    ['PT0.5S', 500],
    ['PT1H30M15S', 5_415_000],
  ])('%s is %i ms', (text, ms) => {
    expect(parseIsoDuration(text)).toBe(ms);
  });

  it.each(['', 'P', 'PT', 'P1Y', 'P1M', '30M', 'PT-5M', 'pt5m', 'P1DT'])('rejects %j', (text) => {
    expect(parseIsoDuration(text)).toBeUndefined();
  });
});

describe('ApprovalDecision', () => {
  it('accepts an approval decision with optional reviewer and comment', () => {
    expect(ApprovalDecision.safeParse({ approved: true }).success).toBe(true);
    expect(ApprovalDecision.safeParse({ approved: true, by: 'ana', comment: 'ok' }).success).toBe(true);
    expect(ApprovalDecision.safeParse({ approved: 'yes' }).success).toBe(false);
  });
});

describe('problem+json', () => {
  it('builds a 400 application/problem+json response listing each problem', () => {
    const response = problemResponse(
      invalidInput('research-report', [
        { pointer: '/topic', detail: 'is required' },
        { pointer: '/extra', detail: 'is not allowed here' },
      ]),
    );
    expect(response.status).toBe(400);
    expect(response.headers).toEqual({ 'content-type': 'application/problem+json' });
    expect(JSON.parse(response.body as string)).toEqual({
      type: 'urn:durable-agents:problem:invalid-input',
      status: 400,
      title: 'Invalid workflow input',
      detail: 'The body does not match the input schema of "research-report" (2 problems).',
      errors: [
        { pointer: '/topic', detail: 'is required' },
        { pointer: '/extra', detail: 'is not allowed here' },
      ],
    });
  });
});
