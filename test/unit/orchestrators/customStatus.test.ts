import { describe, expect, it } from 'vitest';
import { fitCustomStatus, MAX_CUSTOM_STATUS_CHARS } from '../../../src/orchestrators/customStatus.js';
import { RunProgress, type StepRecord } from '../../../src/shared/runTypes.js';

/** The extension's rule (MessagePayloadDataConverter.Serialize(value, 16)): truncated UTF-16 KB ≤ 16. */
const extensionAccepts = (value: unknown): boolean =>
  Math.trunc(Buffer.byteLength(JSON.stringify(value), 'utf16le') / 1024) <= 16;
const size = (value: unknown): number => JSON.stringify(value).length;

const base: RunProgress = {
  workflow: 'research-report',
  version: '1.0.0',
  step: 'research',
  stepIndex: 1,
  stepCount: 500,
  usage: { inputTokens: 10, outputTokens: 20, cacheWriteTokens: 0, cacheReadTokens: 0 },
  costUsd: 0.25,
};

const record = (index: number, extra: Partial<StepRecord> = {}): StepRecord => ({
  stepId: `step-${index}`,
  kind: 'llm',
  status: 'completed',
  role: 'worker',
  deployments: ['claude-haiku-4-5'],
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:00:01.000Z',
  tokens: { input: 100, output: 50, cacheWrite: 0, cacheRead: 0 },
  costUsd: 0.001,
  toolCalls: 0,
  ...extra,
});

const timeline = (count: number): StepRecord[] => Array.from({ length: count }, (_, i) => record(i));

describe('fitCustomStatus', () => {
  it('passes a status that fits through untouched (the same object)', () => {
    const status = { ...base, timeline: timeline(3) };
    expect(fitCustomStatus(status)).toBe(status);
  });

  it('is exact at the limit: 8,192 characters pass, 8,193 are trimmed', () => {
    // A status padded with its step name to exactly the limit, then one more.
    const pad = (chars: number): RunProgress => {
      const status = { ...base, step: '' };
      return { ...status, step: 'x'.repeat(chars - size(status)) };
    };
    const atLimit = pad(MAX_CUSTOM_STATUS_CHARS);
    expect(size(atLimit)).toBe(MAX_CUSTOM_STATUS_CHARS);
    expect(fitCustomStatus(atLimit)).toBe(atLimit);
    const over = pad(MAX_CUSTOM_STATUS_CHARS + 1);
    const fitted = fitCustomStatus(over);
    expect(size(fitted)).toBeLessThanOrEqual(MAX_CUSTOM_STATUS_CHARS);
    // Nothing else to shorten: only the counters are kept.
    expect(fitted).toEqual({
      workflow: base.workflow,
      version: base.version,
      stepIndex: 1,
      stepCount: 500,
      usage: base.usage,
      costUsd: 0.25,
    });
    expect(RunProgress.safeParse(fitted).success).toBe(true);
  });

  it('drops the oldest timeline records, keeps as many newest as fit and counts the rest', () => {
    const records = [...timeline(199), record(199, { status: 'running', endedAt: undefined })];
    const status = { ...base, timeline: records };
    expect(size(status)).toBeGreaterThan(3 * MAX_CUSTOM_STATUS_CHARS);
    const fitted = fitCustomStatus(status);
    const kept = fitted.timeline ?? [];
    expect(size(fitted)).toBeLessThanOrEqual(MAX_CUSTOM_STATUS_CHARS);
    expect(extensionAccepts(fitted)).toBe(true);
    expect(kept.length).toBeGreaterThan(10);
    // The newest records, in order, the running step last.
    expect(kept).toEqual(records.slice(-kept.length));
    expect(kept.at(-1)?.status).toBe('running');
    expect(fitted.timelineOmitted).toBe(200 - kept.length);
    // Tight: one more record would not have fit.
    const oneMore = { ...fitted, timeline: records.slice(-(kept.length + 1)) };
    expect(size(oneMore)).toBeGreaterThan(MAX_CUSTOM_STATUS_CHARS);
    expect(RunProgress.safeParse(fitted).success).toBe(true);
  });

  it('measures UTF-16 code units, as the extension does: a non-ASCII timeline is trimmed by its length', () => {
    // '😀' is 2 UTF-16 code units (4 UTF-8 bytes), '€' is 1 (3 UTF-8 bytes).
    const records = timeline(60).map((r, i) => ({ ...r, error: (i % 2 ? '😀' : '€').repeat(150) }));
    const fitted = fitCustomStatus({ ...base, timeline: records });
    expect(size(fitted)).toBeLessThanOrEqual(MAX_CUSTOM_STATUS_CHARS);
    expect(Buffer.byteLength(JSON.stringify(fitted), 'utf16le')).toBe(2 * size(fitted));
    expect(extensionAccepts(fitted)).toBe(true);
    expect(fitted.timelineOmitted).toBeGreaterThan(0);
  });

  it('shortens a huge approval message and batch id list before it drops timeline records', () => {
    const status: RunProgress = {
      ...base,
      waitingFor: {
        event: 'review',
        until: '2026-01-02T00:00:00.000Z',
        message: 'Please review. '.repeat(1000),
      },
      batch: {
        stepId: 'classify',
        provider: 'anthropic',
        batchIds: Array.from({ length: 300 }, (_, i) => `msgbatch_${String(i).padStart(20, '0')}`),
        total: 300,
        succeeded: 0,
        errored: 0,
        processing: 300,
      },
      timeline: timeline(5),
    };
    const fitted = fitCustomStatus(status);
    expect(size(fitted)).toBeLessThanOrEqual(MAX_CUSTOM_STATUS_CHARS);
    expect(fitted.waitingFor?.message).toHaveLength(500);
    expect(fitted.waitingFor?.message?.endsWith('…')).toBe(true);
    expect(fitted.batch?.batchIds).toEqual(status.batch?.batchIds.slice(0, 10));
    expect(fitted.batch?.total).toBe(300);
    expect(fitted.timeline).toEqual(status.timeline);
    expect(fitted.timelineOmitted).toBeUndefined();
  });

  it('is deterministic: the same status always fits the same way', () => {
    const status = { ...base, timeline: timeline(150) };
    expect(fitCustomStatus(status)).toEqual(fitCustomStatus(structuredClone(status)));
  });
});
