/**
 * One money format and one rounding for US dollar amounts, used by the operator API, the CLI and the
 * budget messages (the dashboard's `dom.mjs` `formatCost` follows the same rule; test/operator pins both).
 */

/**
 * Sums of per-call costs pick up binary floating-point noise (0.001599 + 0.0032 = 0.0047989999999999994).
 * Prices are at most a few decimals per token, so 10 decimal places keep every real digit and drop the noise.
 */
export function roundUsd(amount: number): number {
  if (!Number.isFinite(amount)) return amount;
  return Math.round(amount * 1e10) / 1e10;
}

/** `$12.35` from a dollar up, `$0.0048` below it, `<$0.0001` for a tiny non-zero amount, `$0.00` for none. */
export function formatUsd(amount: number): string {
  if (!Number.isFinite(amount)) return '—';
  const rounded = roundUsd(amount);
  if (rounded === 0) return '$0.00';
  const sign = rounded < 0 ? '-' : '';
  const value = Math.abs(rounded);
  if (value >= 1) return `${sign}$${value.toFixed(2)}`;
  if (value < 0.00005) return `${sign}<$0.0001`;
  return `${sign}$${value.toFixed(4)}`;
}
