/**
 * Orchestration version gates. An instance keeps the version it was created with (host.json
 * `extensions.durableTask.defaultVersion` at the time, or the starter's explicit one); an orchestrator
 * that changes what it schedules takes the new path only for instances at or above the version that
 * introduced the change, so runs in flight when a release is deployed replay the old path unchanged.
 * See docs/operations.md ("Orchestration versioning") for the upgrade procedure.
 *
 * Versions compare as the Durable extension compares them (Azure/durabletask
 * `src/DurableTask.Core/Settings/VersioningSettings.cs` `CompareVersions`, which the worker's
 * `versionMatchStrategy` uses too): an unversioned instance (`undefined`, `null` or blank, everything
 * started before versioning) is older than any version; two versions that parse as .NET `System.Version`
 * ("2.0", "2.1.3": two to four numbers) compare numerically; anything else compares as text ignoring
 * case. So name versions "N.0": a bare "10" would sort before "2".
 *
 * devhost/durable/versioning.ts holds the host's copy (devhost imports nothing from src/);
 * test/unit/orchestrators/version.test.ts checks that the two agree.
 */
import type { OrchestrationContext } from 'durable-functions';

/**
 * The version that introduced each change of what the orchestrators schedule. host.json's
 * `defaultVersion` must be the highest of them (test/unit/orchestrators/version.test.ts checks it).
 */
export const ORCHESTRATION_VERSIONS = {
  /** Agent transcripts by claim check: `appendTranscript` and `{ ref }` instead of `saveArtifact` and `{ blobRef }`. */
  transcriptClaimCheck: '2.0',
  /** Runs with a callback URL schedule `startCallback` first. */
  callbackFirst: '2.0',
} as const;

function blank(version: string | null | undefined): version is undefined | null | '' {
  return version === undefined || version === null || version.trim() === '';
}

/** .NET `System.Version.TryParse`: 2–4 non-negative Int32 parts; missing build and revision are -1. */
function parseVersion(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length < 2 || parts.length > 4) return undefined;
  const numbers = parts.map((part) => /^\s*\+?(\d+)\s*$/.exec(part)?.[1]).map(Number);
  if (numbers.some((n) => !Number.isInteger(n) || n > 2_147_483_647)) return undefined;
  return [...numbers, -1, -1, -1].slice(0, 4);
}

/** The sign (-1, 0, 1) of comparing two orchestration versions, as the Durable extension does. */
export function compareVersions(a: string | null | undefined, b: string | null | undefined): number {
  if (blank(a)) return blank(b) ? 0 : -1;
  if (blank(b)) return 1;
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (x && y) {
    const d = x.findIndex((n, i) => n !== y[i]);
    return d < 0 ? 0 : Math.sign((x[d] ?? 0) - (y[d] ?? 0));
  }
  const [p, q] = [a.toUpperCase(), b.toUpperCase()];
  return p < q ? -1 : p > q ? 1 : 0;
}

/** Whether this instance was created at `version` or later. Deterministic: the version never changes on replay. */
export function atLeast(context: OrchestrationContext, version: string): boolean {
  return compareVersions(context.df.version, version) >= 0;
}
