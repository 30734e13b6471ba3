import { describe, expect, it } from 'vitest';
import {
  invalidBody,
  issuesToProblems,
  problemResponse,
  toJsonPointer,
} from '../../src/functions/problem.js';
import { parseIsoDuration } from '../../src/shared/duration.js';
import { ApprovalDecision, DocumentDigestInput } from '../../src/shared/schemas.js';

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

describe('DocumentDigestInput', () => {
  const valid = { title: 'Doc', paragraphs: ['One.'] };

  it('accepts a minimal document and one with approval', () => {
    expect(DocumentDigestInput.parse(valid)).toEqual(valid);
    const withApproval = { ...valid, approval: { required: true, timeout: 'PT15M' } };
    expect(DocumentDigestInput.parse(withApproval)).toEqual(withApproval);
  });

  it('bounds paragraphs to 1..50', () => {
    expect(DocumentDigestInput.safeParse({ ...valid, paragraphs: [] }).success).toBe(false);
    expect(DocumentDigestInput.safeParse({ ...valid, paragraphs: Array(50).fill('x') }).success).toBe(true);
    expect(DocumentDigestInput.safeParse({ ...valid, paragraphs: Array(51).fill('x') }).success).toBe(false);
  });

  it('rejects calendar-dependent, zero and over-long approval timeouts', () => {
    for (const timeout of ['P1M', 'PT0S', 'P31D', 'soon']) {
      const result = DocumentDigestInput.safeParse({ ...valid, approval: { required: true, timeout } });
      expect(result.success, timeout).toBe(false);
    }
  });

  it('accepts an approval decision with optional reviewer and comment', () => {
    expect(ApprovalDecision.safeParse({ approved: true }).success).toBe(true);
    expect(ApprovalDecision.safeParse({ approved: 'yes' }).success).toBe(false);
  });
});

describe('problem+json mapping', () => {
  it('escapes JSON Pointer tokens', () => {
    expect(toJsonPointer([])).toBe('');
    expect(toJsonPointer(['paragraphs', 3])).toBe('/paragraphs/3');
    expect(toJsonPointer(['a/b', 'c~d'])).toBe('/a~1b/c~0d');
  });

  it('lists every problem with its path, unknown keys at their own path', () => {
    const result = DocumentDigestInput.safeParse({
      title: '',
      paragraphs: ['ok', 7],
      approval: { required: 'yes', timeout: 'P1Y' },
      extra: true,
    });
    expect(result.success).toBe(false);
    if (result.success) return;
    const pointers = issuesToProblems(result.error).map((p) => p.pointer);
    expect(pointers.sort()).toEqual(
      ['/title', '/paragraphs/1', '/approval/required', '/approval/timeout', '/extra'].sort(),
    );
  });

  it('builds a 400 application/problem+json response', () => {
    const result = DocumentDigestInput.safeParse({ title: 'x' });
    if (result.success) throw new Error('expected failure');
    const response = problemResponse(invalidBody(result.error, 'document-digest'));
    expect(response.status).toBe(400);
    expect(response.headers).toEqual({ 'content-type': 'application/problem+json' });
    const body = JSON.parse(response.body as string) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'urn:durable-agents:problem:invalid-input',
      status: 400,
      title: 'Invalid workflow input',
      errors: [{ pointer: '/paragraphs', detail: expect.any(String) as unknown }],
    });
  });
});
