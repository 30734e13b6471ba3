/** DTOs of the batch run (`runBatch`) and its blob activities. */
import { z } from 'zod';
import { CarriedDefinition } from './carriedDefinition.js';
import { ToolDefinition } from './modelTypes.js';
import { RunError, RunOptions } from './runTypes.js';
import { MAX_BATCH_CONCURRENCY } from './requestTypes.js';
import { RunTrace } from './traceTypes.js';

/** Lines per page: one page per orchestration generation (`continueAsNew`), so history stays bounded. */
export const DEFAULT_BATCH_PAGE_SIZE = 128;
export const MAX_BATCH_PAGE_SIZE = 2_048;
/** A page also ends once it holds this much item text, so a generation's history stays bounded whatever the lines' size. */
export const MAX_BATCH_PAGE_BYTES = 1024 * 1024;
export const DEFAULT_BATCH_CONCURRENCY = 8;

/** Everything but the input of each item's `runWorkflow` run, built once by the run starter. */
export const RunTemplate = z.strictObject({
  definition: CarriedDefinition,
  workflows: z.record(z.string(), CarriedDefinition),
  tools: z.record(z.string(), ToolDefinition),
  options: RunOptions.optional(),
  /** The batch job's trace context (src/telemetry/README.md): every item run's calls join its trace. */
  trace: RunTrace.optional(),
});
export type RunTemplate = z.infer<typeof RunTemplate>;

/** Counters carried from page to page. */
export const BatchState = z.strictObject({
  total: z.int().nonnegative(),
  /** Pages written so far; also the next page's block index in the results blob. */
  pages: z.int().nonnegative(),
  /** 1-based number of the next line to read. */
  nextLine: z.int().positive(),
  byteOffset: z.int().nonnegative(),
  succeeded: z.int().nonnegative(),
  failed: z.int().nonnegative(),
  costUsd: z.number().nonnegative(),
  startedAt: z.string(),
  /** Average result line of the last page, in bytes: it sizes the next page. */
  resultBytesPerLine: z.int().positive().optional(),
});
export type BatchState = z.infer<typeof BatchState>;

/** Custom status of a batch run. */
export const BatchProgress = z.strictObject({
  kind: z.literal('batch'),
  workflow: z.string(),
  total: z.int().nonnegative(),
  done: z.int().nonnegative(),
  succeeded: z.int().nonnegative(),
  failed: z.int().nonnegative(),
  costUsd: z.number().nonnegative(),
  outputBlob: z.string(),
  /** While a page runs: its number and how many lanes run it; each lane reports its own progress. */
  running: z.strictObject({ page: z.int().nonnegative(), lanes: z.int().positive() }).optional(),
});
export type BatchProgress = z.infer<typeof BatchProgress>;

/** Custom status of a batch lane: its share of the page so far. */
export const BatchLaneProgress = z.strictObject({
  kind: z.literal('batchLane'),
  done: z.int().nonnegative(),
  failed: z.int().nonnegative(),
  costUsd: z.number().nonnegative(),
});
export type BatchLaneProgress = z.infer<typeof BatchLaneProgress>;

/** Child run ids derive from the batch id and the line, so a replay or a retried page finds the same run. */
export function itemInstanceId(batchId: string, line: number): string {
  return `${itemRunsPrefix(batchId)}${line}`;
}

/** What every run id of a batch's items starts with (its lanes' ids too). */
export function itemRunsPrefix(batchId: string): string {
  return `${batchId}:`;
}

/** Lane ids derive from the batch, the page and the lane; the `:` keeps them out of the runs list. */
export function laneInstanceId(batchId: string, page: number, lane: number): string {
  return `${batchId}:page${page}:lane${lane}`;
}

/** One line of the results blob, in input order. */
export const BatchItemResult = z.strictObject({
  line: z.int().positive(),
  status: z.enum(['succeeded', 'failed']),
  runId: z.string().optional(),
  output: z.unknown().optional(),
  error: RunError.optional(),
  costUsd: z.number().nonnegative(),
});
export type BatchItemResult = z.infer<typeof BatchItemResult>;

/**
 * A line's result as the batch carries it until the page is written: everything but the output, which
 * stays with the item's run and is read back from it when the page's block is written. Lanes and pages
 * replay what they carry on every episode, and the outputs were most of it.
 */
export const BatchPageResult = BatchItemResult.omit({ output: true });
export type BatchPageResult = z.infer<typeof BatchPageResult>;

/** What a lane reports per item: its page adds the run id, which follows from the batch and the line. */
export const BatchItemOutcome = BatchPageResult.omit({ runId: true });
export type BatchItemOutcome = z.infer<typeof BatchItemOutcome>;

/** Orchestration output of `runBatch`; also what the summary blob holds. */
export const BatchSummary = z.strictObject({
  kind: z.literal('batch'),
  workflow: z.string(),
  version: z.union([z.string(), z.number()]),
  itemsBlob: z.string(),
  outputBlob: z.string(),
  summaryBlob: z.string(),
  total: z.int().nonnegative(),
  succeeded: z.int().nonnegative(),
  failed: z.int().nonnegative(),
  costUsd: z.number().nonnegative(),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export type BatchSummary = z.infer<typeof BatchSummary>;

export const CountBatchItemsInput = z.strictObject({ itemsBlob: z.string().min(1) });
export type CountBatchItemsInput = z.infer<typeof CountBatchItemsInput>;
export const CountBatchItemsOutput = z.strictObject({
  lines: z.int().nonnegative(),
  bytes: z.int().nonnegative(),
});
export type CountBatchItemsOutput = z.infer<typeof CountBatchItemsOutput>;

export const ReadBatchItemsInput = z.strictObject({
  itemsBlob: z.string().min(1),
  byteOffset: z.int().nonnegative(),
  firstLine: z.int().positive(),
  maxLines: z.int().positive(),
  /** The page ends at the line that reaches this many bytes (a page always holds at least one line). */
  maxBytes: z.int().positive().optional(),
  /** The items' workflow: each line is validated against its input schema here, before any run starts. */
  definition: CarriedDefinition,
});
export type ReadBatchItemsInput = z.infer<typeof ReadBatchItemsInput>;

/** One line: its validated input (defaults filled in), or why it cannot run. */
export const BatchItem = z.union([
  z.strictObject({ line: z.int().positive(), input: z.unknown() }),
  z.strictObject({ line: z.int().positive(), error: RunError }),
]);
export type BatchItem = z.infer<typeof BatchItem>;

export const ReadBatchItemsOutput = z.strictObject({
  items: z.array(BatchItem),
  nextByteOffset: z.int().nonnegative(),
});
export type ReadBatchItemsOutput = z.infer<typeof ReadBatchItemsOutput>;

/** Orchestration input of `runBatchLane`: one lane's share of a page, run one item after another. */
export const BatchLaneInput = z.strictObject({
  run: RunTemplate,
  batchId: z.string().min(1),
  /** The items still to run. */
  items: z.array(z.strictObject({ line: z.int().positive(), input: z.unknown() })).min(1),
  /** Outcomes of the items earlier generations of this lane ran (set when it continues as new). */
  outcomes: z.array(BatchItemOutcome).optional(),
});
export type BatchLaneInput = z.infer<typeof BatchLaneInput>;
export const BatchLaneOutput = z.array(BatchItemOutcome);
export type BatchLaneOutput = z.infer<typeof BatchLaneOutput>;

export const WriteBatchResultsInput = z.strictObject({
  outputBlob: z.string().min(1),
  /** The page number: results are staged as this block, so a retried write replaces itself. */
  block: z.int().nonnegative(),
  /** The batch's instance id: item runs are `<batchId>:<line>`. */
  batchId: z.string().min(1),
  /** When the page started its lanes: no run of this page was created before it (ISO 8601). */
  runsCreatedFrom: z.string(),
  /** Every line of the page in order; each succeeded line's output is read back from its run. */
  results: z.array(BatchPageResult),
});
export type WriteBatchResultsInput = z.infer<typeof WriteBatchResultsInput>;

export const WriteBatchResultsOutput = z.strictObject({
  block: z.int().nonnegative(),
  lines: z.int().nonnegative(),
  /** Succeeded lines whose run could not be read back (purged meanwhile): written as failed. */
  unavailable: z.int().nonnegative(),
});
export type WriteBatchResultsOutput = z.infer<typeof WriteBatchResultsOutput>;

/** Orchestration input of `runBatch`. */
export const BatchRunInput = z.strictObject({
  run: RunTemplate,
  itemsBlob: z.string().min(1),
  outputBlob: z.string().min(1),
  summaryBlob: z.string().min(1),
  concurrency: z.int().min(1).max(MAX_BATCH_CONCURRENCY),
  pageSize: z.int().min(1).max(MAX_BATCH_PAGE_SIZE).default(DEFAULT_BATCH_PAGE_SIZE),
  /** Set by the batch itself when it continues as new. */
  state: BatchState.optional(),
  /** The page to run, read by the last generation while its own page ran. */
  next: ReadBatchItemsOutput.optional(),
  /** The last generation's results, written by this one while its page runs. */
  unwritten: WriteBatchResultsInput.optional(),
});
export type BatchRunInput = z.infer<typeof BatchRunInput>;

export const FinishBatchInput = z.strictObject({
  outputBlob: z.string().min(1),
  blocks: z.int().nonnegative(),
  summary: BatchSummary,
});
export type FinishBatchInput = z.infer<typeof FinishBatchInput>;
