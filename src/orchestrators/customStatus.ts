/**
 * Keeps `runWorkflow`'s custom status within the Durable extension's limit, deterministically.
 *
 * The rule (azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/ContextImplementations/
 * DurableOrchestrationContext.cs `SetCustomStatus` → MessagePayloadDataConverter.cs `Serialize(value, 16)`):
 * the JSON text's UTF-16 byte count, divided by 1,024 and truncated, must not exceed 16, else the
 * orchestration fails with "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. …".
 * The extension therefore refuses from 8,704 UTF-16 code units (JavaScript string length) on; the app
 * stays within 8,192 (16 KiB, the documented limit), which also leaves room for the extension re-writing
 * the JSON (it parses and re-serializes it with Newtonsoft, which never makes this status longer).
 */
import type { RunFinal, RunProgress, StepRecord } from '../shared/runTypes.js';

/** The longest custom status JSON the app sets, in UTF-16 code units (string length). */
export const MAX_CUSTOM_STATUS_CHARS = 8_192;
/** An approval message is shortened to this when the status is over the limit. */
const SHORT_MESSAGE_CHARS = 500;
/** A step's provider batch lists at most this many batch ids when the status is over the limit. */
const SHORT_BATCH_IDS = 10;

const sizeOf = (value: unknown): number => JSON.stringify(value).length;

const shorten = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;

/** The timeline's newest records that fit in `room` characters as a JSON array, in order. */
function newestThatFit(records: readonly StepRecord[], room: number): StepRecord[] {
  let used = 2; // []
  let first = records.length;
  while (first > 0) {
    const next = sizeOf(records[first - 1]) + (first === records.length ? 0 : 1);
    if (used + next > room) break;
    used += next;
    first -= 1;
  }
  return records.slice(first);
}

/**
 * `status` itself when it fits in `limit`; else, in this order until it fits: the approval message is
 * shortened, the batch ids cut, the oldest timeline records dropped (`timelineOmitted` counts them,
 * the running step is the newest and stays longest), and finally only the counters are kept.
 */
export function fitCustomStatus(status: RunProgress, limit = MAX_CUSTOM_STATUS_CHARS): RunProgress {
  if (sizeOf(status) <= limit) return status;
  let fitted: RunProgress = { ...status };
  if (fitted.waitingFor?.message !== undefined) {
    fitted.waitingFor = {
      ...fitted.waitingFor,
      message: shorten(fitted.waitingFor.message, SHORT_MESSAGE_CHARS),
    };
  }
  if (fitted.batch && fitted.batch.batchIds.length > SHORT_BATCH_IDS) {
    fitted.batch = { ...fitted.batch, batchIds: fitted.batch.batchIds.slice(0, SHORT_BATCH_IDS) };
  }
  const timeline = fitted.timeline ?? [];
  if (timeline.length > 0) {
    const { timeline: _all, timelineOmitted: _omitted, ...rest } = fitted;
    // Room for the array: what the status without it leaves, less the key and the omitted count.
    const omittedAtMost = timeline.length + (status.timelineOmitted ?? 0);
    const frame = sizeOf({ ...rest, timeline: [], timelineOmitted: omittedAtMost }) - 2;
    const kept = newestThatFit(timeline, limit - frame);
    const omitted = (status.timelineOmitted ?? 0) + timeline.length - kept.length;
    fitted = {
      ...rest,
      ...(kept.length > 0 ? { timeline: kept } : {}),
      ...(omitted > 0 ? { timelineOmitted: omitted } : {}),
    };
  }
  if (sizeOf(fitted) <= limit) return fitted;
  // Only the counters: a status this large has long names or messages, none of which is needed to follow it.
  // A stopped run's result stays, with its ledger rows and artifact list left out (and counted).
  const { workflow, version, stepIndex, stepCount, usage, costUsd } = status;
  const omitted = (status.timelineOmitted ?? 0) + timeline.length;
  return {
    workflow: shorten(workflow, 200),
    version: typeof version === 'string' ? shorten(version, 100) : version,
    stepIndex,
    stepCount,
    usage,
    costUsd,
    ...(omitted > 0 ? { timelineOmitted: omitted } : {}),
    ...(status.final ? { final: finalCounters(status.final) } : {}),
  };
}

/** A stopped run's result with only its totals: rows and artifacts counted, the error message shortened. */
function finalCounters(final: RunFinal): RunFinal {
  const rows = final.ledger.rows.length + (final.ledgerRowsOmitted ?? 0);
  const artifacts = final.artifacts.length + (final.artifactsOmitted ?? 0);
  return {
    outcome: final.outcome,
    error: {
      ...(final.error.stepId === undefined ? {} : { stepId: shorten(final.error.stepId, 200) }),
      kind: shorten(final.error.kind, 100),
      message: shorten(final.error.message, SHORT_MESSAGE_CHARS),
    },
    ledger: { rows: [], totals: final.ledger.totals },
    artifacts: [],
    ...(rows > 0 ? { ledgerRowsOmitted: rows } : {}),
    ...(artifacts > 0 ? { artifactsOmitted: artifacts } : {}),
  };
}
