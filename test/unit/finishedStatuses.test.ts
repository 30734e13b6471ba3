import { describe, expect, it } from 'vitest';
import {
  FINISHED_STATUSES,
  PURGEABLE_STATUSES,
  RUNTIME_STATUSES,
  isFinished,
} from '../../src/shared/operatorTypes.js';

const DOM_MODULE = '../../src/dashboard/dom.mjs';

describe('isFinished', () => {
  it('is true exactly for Completed, Failed, Canceled and Terminated', () => {
    expect(RUNTIME_STATUSES.filter((status) => isFinished(status))).toEqual([
      'Completed',
      'Failed',
      'Canceled',
      'Terminated',
    ]);
    expect(isFinished(undefined)).toBe(false);
    expect(isFinished('completed')).toBe(false);
    expect(PURGEABLE_STATUSES).toBe(FINISHED_STATUSES);
  });

  it('matches the dashboard’s browser copy', async () => {
    const dom = (await import(DOM_MODULE)) as { TERMINAL_STATUSES: ReadonlySet<string> };
    expect([...dom.TERMINAL_STATUSES].sort()).toEqual([...FINISHED_STATUSES].sort());
  });
});
