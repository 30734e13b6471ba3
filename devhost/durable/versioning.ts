/**
 * Orchestration versioning as the Durable extension applies it (host.json `extensions.durableTask`
 * `defaultVersion`, `versionMatchStrategy`, `versionFailureStrategy`).
 *
 * Sources:
 * - https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-orchestration-versioning
 *   (new orchestrations and sub-orchestrations without a version get `defaultVersion`; defaults
 *   `CurrentOrOlder` and `Reject`; `"defaultVersion": null` is the same as leaving it out; the
 *   comparison rules).
 * - azure-functions-durable-extension `DurableTaskExtension.cs` `InitializeTaskHubWorker`: the three
 *   options become DurableTask.Core's `VersioningSettings` of the task hub worker.
 * - Azure/durabletask `src/DurableTask.Core/Settings/VersioningSettings.cs` (`CompareVersions`) and
 *   `src/DurableTask.Core/TaskOrchestrationDispatcher.cs` (the check runs on every orchestration work
 *   item before the orchestrator: `Strict` needs the same version, `CurrentOrOlder` a version not
 *   greater; on a mismatch `Fail` completes the orchestration as Failed with FailureDetails
 *   `VersionMismatch` / "Orchestration version did not comply with Worker Versioning" (non-retriable)
 *   without running it, and `Reject` abandons the work item, so its messages wait for a worker that
 *   matches); `TaskOrchestrationDispatcher` keeps the version across continueAsNew
 *   (`NewVersion ?? runtimeState.Version`; durable-functions never sends a new version).
 *
 * devhost imports nothing from `src/`, so the comparison is written here; `src/orchestrators/version.ts`
 * has the orchestrators' copy, and test/devhost/versioning.test.ts checks the two agree.
 */

export type VersionMatchStrategy = 'None' | 'Strict' | 'CurrentOrOlder';
export type VersionFailureStrategy = 'Reject' | 'Fail';

export interface VersioningOptions {
  /** Given to new orchestrations and sub-orchestrations that name no version; the worker's own version. */
  defaultVersion?: string | undefined;
  matchStrategy: VersionMatchStrategy;
  failureStrategy: VersionFailureStrategy;
}

export const NO_VERSIONING: VersioningOptions = { matchStrategy: 'None', failureStrategy: 'Reject' };

export const VERSION_MISMATCH_DETAILS = {
  ErrorType: 'VersionMismatch',
  ErrorMessage: 'Orchestration version did not comply with Worker Versioning',
  IsNonRetriable: true,
} as const;

function blank(version: string | null | undefined): boolean {
  return version === undefined || version === null || version.trim() === '';
}

const INT32_MAX = 2_147_483_647;

/**
 * .NET `System.Version.TryParse`: two to four dot-separated components, each a non-negative Int32
 * (`int.TryParse` with NumberStyles.Integer: surrounding white space and a leading `+` are allowed).
 * Missing build and revision are -1, so "1.0" sorts before "1.0.0". A single component ("2") does not parse.
 */
export function parseDotNetVersion(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length < 2 || parts.length > 4) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    const m = /^\s*\+?(\d+)\s*$/.exec(part);
    if (!m?.[1]) return undefined;
    const n = Number(m[1]);
    if (n > INT32_MAX) return undefined;
    numbers.push(n);
  }
  while (numbers.length < 4) numbers.push(-1);
  return numbers;
}

/** `string.Compare(a, b, StringComparison.OrdinalIgnoreCase)`, by sign. */
function ordinalIgnoreCase(a: string, b: string): number {
  const x = a.toUpperCase();
  const y = b.toUpperCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** DurableTask.Core `VersioningSettings.CompareVersions`, by sign (-1, 0, 1). */
export function compareVersions(source: string | null | undefined, other: string | null | undefined): number {
  if (blank(source) && blank(other)) return 0;
  if (blank(source)) return -1;
  if (blank(other)) return 1;
  const a = parseDotNetVersion(source as string);
  const b = parseDotNetVersion(other as string);
  if (a && b) {
    for (let i = 0; i < 4; i++) {
      const d = (a[i] ?? -1) - (b[i] ?? -1);
      if (d !== 0) return Math.sign(d);
    }
    return 0;
  }
  return ordinalIgnoreCase(source as string, other as string);
}

/** What the worker does with an instance's work: run it, leave it for a matching worker, or fail it. */
export function versionVerdict(
  instanceVersion: string | null | undefined,
  options: VersioningOptions,
): 'run' | 'reject' | 'fail' {
  let mismatch = false;
  switch (options.matchStrategy) {
    case 'None':
      return 'run';
    case 'Strict':
      // The dispatcher compares with `!=`; devhost stores an unversioned instance as '' and the
      // extension's empty and null versions both mean unversioned (Learn: "treated as equal").
      mismatch = blank(instanceVersion)
        ? !blank(options.defaultVersion)
        : instanceVersion !== options.defaultVersion;
      break;
    case 'CurrentOrOlder':
      mismatch = compareVersions(instanceVersion, options.defaultVersion) > 0;
      break;
  }
  if (!mismatch) return 'run';
  return options.failureStrategy === 'Fail' ? 'fail' : 'reject';
}
