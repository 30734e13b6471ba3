/**
 * Where a batch's wall time went (`--timeline`), read from the devhost's store once the batch is done:
 * per page, the hand-over from the page before, how long its lanes ran and how far apart they ended;
 * per 256 lines, the mean time an item's run took and the mean gap before its lane's next item started
 * (a bucket that holds a page's end shows the wait for the page's last lane in its gap); and how long
 * the batch took after its last lane. Times are the store's created and last-updated stamps (ms).
 */
import Database from 'better-sqlite3';
import { storeFile } from '../devhost/durable/store.js';
import { itemInstanceId, laneInstanceId } from '../src/shared/batchJobTypes.js';

const LINES_PER_BUCKET = 256;

interface Span {
  created: number;
  updated: number;
}

export function batchTimeline(
  stateDir: string,
  batchId: string,
  concurrency: number,
  lines: number,
): string[] {
  const db = new Database(storeFile(stateDir), { readonly: true });
  try {
    const spans = new Map<string, Span>();
    const rows = db
      .prepare<[string, string], { instance_id: string; created_ms: number; updated_ms: number }>(
        'SELECT instance_id, created_ms, updated_ms FROM instances WHERE instance_id = ? OR instance_id LIKE ?',
      )
      .all(batchId, `${batchId}:%`);
    for (const row of rows) spans.set(row.instance_id, { created: row.created_ms, updated: row.updated_ms });
    const batch = spans.get(batchId);
    if (batch === undefined) return [`timeline: no batch ${batchId} in the store`];

    const out: string[] = [];
    let lastEnd = batch.created;
    for (let page = 0; ; page++) {
      const lanes = Array.from({ length: concurrency }, (_, lane) =>
        spans.get(laneInstanceId(batchId, page, lane)),
      ).filter((span) => span !== undefined);
      if (lanes.length === 0) break;
      const start = Math.min(...lanes.map((lane) => lane.created));
      const ends = lanes.map((lane) => lane.updated).sort((a, b) => a - b);
      const first = ends[0] ?? start;
      const last = ends.at(-1) ?? start;
      out.push(
        `page ${page}: ${lanes.length} lanes, hand-over ${start - lastEnd} ms, ran ${last - start} ms, ` +
          `lanes ended ${first - start}..${last - start} ms (spread ${last - first} ms)`,
      );
      lastEnd = last;
    }
    out.push(`after the last lane: ${batch.updated - lastEnd} ms to the batch's end`);

    const buckets: string[] = [];
    for (let from = 1; from <= lines; from += LINES_PER_BUCKET) {
      const runs: number[] = [];
      const gaps: number[] = [];
      for (let line = from; line < from + LINES_PER_BUCKET && line <= lines; line++) {
        const item = spans.get(itemInstanceId(batchId, line));
        const next = spans.get(itemInstanceId(batchId, line + concurrency));
        if (item) runs.push(item.updated - item.created);
        if (item && next && next.created >= item.updated) gaps.push(next.created - item.updated);
      }
      buckets.push(`${from}: ${mean(runs).toFixed(0)} + ${mean(gaps).toFixed(1)}`);
    }
    out.push(`lines: mean run ms + mean gap ms, per ${LINES_PER_BUCKET} lines`, buckets.join(' | '));
    return out;
  } finally {
    db.close();
  }
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}
