import { describe, expect, it } from 'vitest';
import {
  addModelCall,
  addRows,
  budgetOverrun,
  emptyLedger,
  intersectBudgets,
  prefixRows,
  remainingBudget,
  totalTokens,
} from '../../../src/orchestrators/ledger.js';
import { answer, usage } from './scriptedRuntime.js';

describe('ledger', () => {
  it('aggregates calls per (step, role, provider, deployment) and keeps totals', () => {
    let ledger = emptyLedger();
    ledger = addModelCall(ledger, 'plan', 'planner', answer('a', { costUsd: 0.5, usage: usage(10, 5) }));
    ledger = addModelCall(ledger, 'plan', 'planner', answer('b', { costUsd: 0.25, usage: usage(20, 5) }));
    ledger = addModelCall(
      ledger,
      'plan',
      'planner',
      answer('c', { deployment: 'gpt-5', provider: 'azure-openai' }),
    );
    ledger = addModelCall(ledger, 'write', 'writer', answer('d', { offline: false }));

    expect(ledger.rows.map((r) => [r.stepId, r.deployment, r.calls])).toEqual([
      ['plan', 'claude-haiku', 2],
      ['plan', 'gpt-5', 1],
      ['write', 'claude-haiku', 1],
    ]);
    expect(ledger.rows[0]).toMatchObject({ costUsd: 0.75, usage: usage(30, 10), offline: true });
    expect(ledger.rows[2]?.offline).toBe(false);
    expect(ledger.totals.calls).toBe(4);
    expect(ledger.totals.costUsd).toBeCloseTo(0.77);
    expect(totalTokens(ledger.totals.usage)).toBe(30 + 10 + 300);
  });

  it('merges a child ledger under the calling step', () => {
    const child = addModelCall(emptyLedger(), 'plan', 'planner', answer('x'));
    const parent = addRows(emptyLedger(), prefixRows(child.rows, 'report'));
    expect(parent.rows.map((r) => r.stepId)).toEqual(['report/plan']);
    expect(parent.totals).toEqual(child.totals);
  });

  it('intersects budgets limit by limit', () => {
    expect(intersectBudgets(undefined, undefined)).toBeUndefined();
    expect(intersectBudgets({ maxCostUsd: 3 }, undefined)).toEqual({ maxCostUsd: 3 });
    expect(intersectBudgets({ maxCostUsd: 3, maxTokens: 100 }, { maxCostUsd: 1 })).toEqual({
      maxCostUsd: 1,
      maxTokens: 100,
    });
  });

  it('reports an overrun once a limit is reached, and what remains before that', () => {
    const ledger = addModelCall(
      emptyLedger(),
      's',
      'worker',
      answer('x', { costUsd: 0.06, usage: usage(900, 100) }),
    );
    expect(budgetOverrun(ledger, undefined)).toBeUndefined();
    expect(budgetOverrun(ledger, { maxCostUsd: 1 })).toBeUndefined();
    expect(budgetOverrun(ledger, { maxCostUsd: 0.05 })).toBe('spent $0.0600 of $0.0500 budget');
    expect(budgetOverrun(ledger, { maxTokens: 1000 })).toBe('used 1000 of 1000 budgeted tokens');
    expect(remainingBudget(ledger, { maxCostUsd: 1, maxTokens: 5000 })).toEqual({
      maxCostUsd: 0.94,
      maxTokens: 4000,
    });
  });
});
