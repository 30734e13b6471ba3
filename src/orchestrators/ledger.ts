/**
 * The cost ledger and budget arithmetic. Pure: orchestrators keep a `Ledger` value and replace it
 * after every model call, so replay rebuilds exactly the same rows in the same order.
 */
import type { CallModelSuccess, FileUsage, ServerToolUse, TokenUsage } from '../shared/modelTypes.js';
import type { ToolCallResult } from '../shared/toolTypes.js';
import type { Ledger, LedgerRow, RunBudget } from '../shared/runTypes.js';
import { formatUsd, roundUsd } from '../shared/money.js';

export const ZERO_USAGE: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheWriteTokens: 0,
  cacheReadTokens: 0,
};

export function emptyLedger(): Ledger {
  return { rows: [], totals: { calls: 0, usage: ZERO_USAGE, costUsd: 0 } };
}

function addFiles(a: FileUsage | undefined, b: FileUsage | undefined): FileUsage | undefined {
  if (!a || !b) return a ?? b;
  return {
    images: a.images + b.images,
    documents: a.documents + b.documents,
    pages: a.pages + b.pages,
    estimatedTokens: a.estimatedTokens + b.estimatedTokens,
    estimatedCostUsd: a.estimatedCostUsd + b.estimatedCostUsd,
  };
}

function addServerTools(
  a: ServerToolUse | undefined,
  b: ServerToolUse | undefined,
): ServerToolUse | undefined {
  if (!a || !b) return a ?? b;
  return {
    webSearches: a.webSearches + b.webSearches,
    webFetches: a.webFetches + b.webFetches,
    codeExecutions: a.codeExecutions + b.codeExecutions,
    containerHours: a.containerHours + b.containerHours,
    feeUsd: roundUsd(a.feeUsd + b.feeUsd),
  };
}

function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
  };
}

/** Every token the run was billed for, cached or not: what `maxTokens` limits. */
export function totalTokens(usage: TokenUsage): number {
  return usage.inputTokens + usage.outputTokens + usage.cacheWriteTokens + usage.cacheReadTokens;
}

const sameKey = (a: LedgerRow, b: LedgerRow) =>
  a.stepId === b.stepId &&
  a.role === b.role &&
  a.provider === b.provider &&
  a.deployment === b.deployment &&
  (a.batch ?? false) === (b.batch ?? false);

/** Adds rows, merging each into the row with the same (stepId, role, provider, deployment, batch). */
export function addRows(ledger: Ledger, rows: readonly LedgerRow[]): Ledger {
  const merged = [...ledger.rows];
  let { calls, usage, costUsd } = ledger.totals;
  for (const row of rows) {
    const at = merged.findIndex((existing) => sameKey(existing, row));
    const existing = at === -1 ? undefined : merged[at];
    const files = addFiles(existing?.files, row.files);
    const serverTools = addServerTools(existing?.serverTools, row.serverTools);
    const combined: LedgerRow = existing
      ? {
          ...existing,
          calls: existing.calls + row.calls,
          usage: addUsage(existing.usage, row.usage),
          costUsd: roundUsd(existing.costUsd + row.costUsd),
          offline: existing.offline || row.offline,
          ...(files ? { files } : {}),
          ...(serverTools ? { serverTools } : {}),
        }
      : { ...row };
    if (at === -1) merged.push(combined);
    else merged[at] = combined;
    calls += row.calls;
    usage = addUsage(usage, row.usage);
    costUsd = roundUsd(costUsd + row.costUsd);
  }
  return { rows: merged, totals: { calls, usage, costUsd } };
}

/** Books one successful model call; `batch` marks an answer from a provider batch (billed at the batch rate). */
export function addModelCall(
  ledger: Ledger,
  stepId: string,
  role: string,
  result: CallModelSuccess,
  batch = false,
): Ledger {
  return addRows(ledger, [
    {
      stepId,
      role,
      provider: result.provider,
      deployment: result.deployment,
      calls: 1,
      usage: result.usage,
      costUsd: result.costUsd,
      offline: result.offline,
      ...(batch ? { batch: true } : {}),
      ...(result.files ? { files: result.files } : {}),
      ...(result.serverTools ? { serverTools: result.serverTools } : {}),
    },
  ]);
}

/**
 * Books the model calls tools made for the step (the Claude web-search side call: its tokens and
 * per-search fee), one row per tool and deployment under the role `tool:<name>`.
 */
export function addToolSpend(ledger: Ledger, stepId: string, results: readonly ToolCallResult[]): Ledger {
  return addRows(
    ledger,
    results.flatMap(({ name, spend }) =>
      (spend ?? []).map((call): LedgerRow => ({
        stepId,
        role: `tool:${name}`,
        provider: call.provider,
        deployment: call.deployment,
        calls: 1,
        usage: call.usage,
        costUsd: call.costUsd,
        offline: false,
      })),
    ),
  );
}

/** A child's rows under the calling step: `report` + `plan` → `report/plan`. */
export function prefixRows(rows: readonly LedgerRow[], prefix: string): LedgerRow[] {
  return rows.map((row) => ({ ...row, stepId: `${prefix}/${row.stepId}` }));
}

/** The tighter of two budgets, limit by limit. */
export function intersectBudgets(a: RunBudget | undefined, b: RunBudget | undefined): RunBudget | undefined {
  const pick = (x: number | undefined, y: number | undefined) =>
    x === undefined ? y : y === undefined ? x : Math.min(x, y);
  const maxCostUsd = pick(a?.maxCostUsd, b?.maxCostUsd);
  const maxTokens = pick(a?.maxTokens, b?.maxTokens);
  if (maxCostUsd === undefined && maxTokens === undefined) return undefined;
  return {
    ...(maxCostUsd === undefined ? {} : { maxCostUsd }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
  };
}

/**
 * Why the budget stops the run, or undefined while there is money and tokens left. Reaching a
 * limit stops it too: the next call could only go past it.
 */
export function budgetOverrun(ledger: Ledger, budget: RunBudget | undefined): string | undefined {
  if (!budget) return undefined;
  const problems: string[] = [];
  const { costUsd, usage } = ledger.totals;
  if (budget.maxCostUsd !== undefined && costUsd >= budget.maxCostUsd) {
    problems.push(`spent ${formatUsd(costUsd)} of ${formatUsd(budget.maxCostUsd)} budget`);
  }
  const tokens = totalTokens(usage);
  if (budget.maxTokens !== undefined && tokens >= budget.maxTokens) {
    problems.push(`used ${tokens} of ${budget.maxTokens} budgeted tokens`);
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** What is left to spend; undefined when there is no budget. Only call while `budgetOverrun` is undefined. */
export function remainingBudget(ledger: Ledger, budget: RunBudget | undefined): RunBudget | undefined {
  if (!budget) return undefined;
  const { costUsd, usage } = ledger.totals;
  return {
    ...(budget.maxCostUsd === undefined ? {} : { maxCostUsd: budget.maxCostUsd - costUsd }),
    ...(budget.maxTokens === undefined ? {} : { maxTokens: budget.maxTokens - totalTokens(usage) }),
  };
}
