/** `GET /api/operator/runs` query parsing, and paging that filters what the Durable API cannot. */
import type { ProblemItem } from '../functions/problem.js';
import { RUNTIME_STATUSES, type RunSummary, type RuntimeStatus } from '../shared/operatorTypes.js';
import type { DurableInstance, DurableManagement } from './durableManagement.js';
import { isTopLevelRun, summaryOf, viewOf } from './runViews.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** Durable pages read per request at most; a sparse filter answers fewer runs plus a token. */
export const MAX_SCANNED_PAGES = 20;
/** Instances per Durable page while scanning: children (agents, map items) usually outnumber runs. */
const SCAN_PAGE_SIZE = 200;
/** Runs without a workflow name yet (still Pending) are looked up one by one, at most this many. */
const MAX_IDENTITY_LOOKUPS = 20;

/** The list's query parameters (the OpenAPI document lists the same names). */
export const LIST_PARAMETERS = [
  'status',
  'workflow',
  'createdFrom',
  'createdTo',
  'idPrefix',
  'pageSize',
  'continuationToken',
  'all',
] as const;
const PARAMETERS = [...LIST_PARAMETERS, 'code'] as const; // `code`: the function key, when sent in the query

export interface RunListQuery {
  readonly statuses?: RuntimeStatus[];
  readonly workflow?: string;
  readonly createdFrom?: Date;
  readonly createdTo?: Date;
  readonly idPrefix?: string;
  readonly pageSize: number;
  readonly position?: ListPosition;
  /** Include sub-orchestrations (agent loops, child workflows). */
  readonly all: boolean;
}

/**
 * Where a newest-first listing stopped: runs created before `before` come next, plus those created at
 * exactly `before` (the Durable API reports whole seconds) whose ids are not in `seen`.
 */
export interface ListPosition {
  readonly before: string;
  readonly seen: readonly string[];
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function encodePosition(position: ListPosition): string {
  return Buffer.from(JSON.stringify({ b: position.before, s: position.seen })).toString('base64url');
}

export function decodePosition(token: string): ListPosition | undefined {
  try {
    const raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { b, s } = raw;
    if (typeof b !== 'string' || Number.isNaN(Date.parse(b))) return undefined;
    if (!Array.isArray(s) || s.length > MAX_PAGE_SIZE || !s.every((id) => typeof id === 'string'))
      return undefined;
    return { before: b, seen: s };
  } catch {
    return undefined;
  }
}

type Parsed = { ok: true; query: RunListQuery } | { ok: false; errors: ProblemItem[] };

export function parseRunListQuery(params: URLSearchParams): Parsed {
  const errors: ProblemItem[] = [];
  const fail = (parameter: string, detail: string) => errors.push({ parameter, detail });
  for (const name of new Set(params.keys())) {
    if (!(PARAMETERS as readonly string[]).includes(name)) {
      fail(name, `unknown parameter; use ${LIST_PARAMETERS.join(', ')}`);
    } else if (params.getAll(name).length > 1 && name !== 'status') {
      // `status` may repeat (`status=Failed&status=Terminated`), like an array in the purge body.
      fail(name, 'given more than once');
    }
  }
  const text = (name: string, max: number): string | undefined => {
    const value = params.get(name)?.trim();
    if (value === undefined || value === '') return undefined;
    if (value.length > max) fail(name, `must be at most ${max} characters`);
    return value;
  };
  const date = (name: string): Date | undefined => {
    const value = text(name, 64);
    if (value === undefined) return undefined;
    const parsed = ISO_DATE_TIME.test(value) ? new Date(value) : undefined;
    if (!parsed || Number.isNaN(parsed.getTime())) {
      fail(name, `must be an ISO 8601 date-time such as 2026-01-31T00:00:00Z (got "${value}")`);
      return undefined;
    }
    return parsed;
  };

  let statuses: RuntimeStatus[] | undefined;
  const statusText =
    params.getAll('status').length > 1 ? params.getAll('status').join(',') : text('status', 500);
  if (statusText !== undefined) {
    statuses = [];
    for (const item of statusText
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const known = RUNTIME_STATUSES.find((s) => s.toLowerCase() === item.toLowerCase());
      if (known) statuses.push(known);
      else fail('status', `unknown status "${item}"; use ${RUNTIME_STATUSES.join(', ')}`);
    }
  }
  const createdFrom = date('createdFrom');
  const createdTo = date('createdTo');
  if (createdFrom && createdTo && createdFrom > createdTo) {
    fail('createdFrom', 'must not be after createdTo');
  }
  let pageSize = DEFAULT_PAGE_SIZE;
  const pageSizeText = text('pageSize', 10);
  if (pageSizeText !== undefined) {
    pageSize = Number(pageSizeText);
    if (!/^\d+$/.test(pageSizeText) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      fail('pageSize', `must be a whole number from 1 to ${MAX_PAGE_SIZE} (got "${pageSizeText}")`);
    }
  }
  let all = false;
  const allText = text('all', 10);
  if (allText !== undefined) {
    if (allText !== 'true' && allText !== 'false') fail('all', `must be true or false (got "${allText}")`);
    all = allText === 'true';
  }
  let position: ListPosition | undefined;
  const token = text('continuationToken', 4_096);
  if (token !== undefined) {
    position = decodePosition(token);
    if (!position) fail('continuationToken', 'is not a token this API issued; start again without it');
  }
  const workflow = text('workflow', 200);
  const idPrefix = text('idPrefix', 256);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    query: {
      ...(statuses && statuses.length > 0 ? { statuses } : {}),
      ...(workflow === undefined ? {} : { workflow }),
      ...(createdFrom ? { createdFrom } : {}),
      ...(createdTo ? { createdTo } : {}),
      ...(idPrefix === undefined ? {} : { idPrefix }),
      pageSize,
      ...(position ? { position } : {}),
      all,
    },
  };
}

/** The first window looked at, and how much each empty-handed window widens the next. */
const FIRST_WINDOW_MS = 60 * 60 * 1_000;
const WINDOW_GROWTH = 8;
/** A window holding more than this many Durable pages is narrowed, so one busy hour cannot exhaust the scan. */
const MAX_PAGES_PER_WINDOW = 5;
/** Creation times come in whole seconds (the extension's StatusResponsePayload, devhost the same). */
const TIME_RESOLUTION_MS = 1_000;
/** The oldest a run can be: the Durable API's creation filter needs a bound. */
const EPOCH = new Date('2000-01-01T00:00:00Z');

const newestFirst = (a: RunSummary, b: RunSummary) =>
  b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

/**
 * One page of runs, newest first. The Durable API lists in its store's order (devhost: creation time,
 * Azure Storage: instance id), so runs are read in windows of creation time going back from the cursor:
 * each window is read whole, sorted, and taken in order; a window that yields too few widens the next,
 * one with too many Durable pages is narrowed and read again. The continuation token is the creation
 * time of the last run returned and the ids already returned at that time. Durable filters status,
 * creation time and id prefix; the top-level and workflow filters happen here.
 */
export async function listRuns(
  management: DurableManagement,
  query: RunListQuery,
  now: () => Date = () => new Date(),
): Promise<{ runs: RunSummary[]; continuationToken?: string }> {
  const runs: RunSummary[] = [];
  const floor = query.createdFrom ?? EPOCH;
  let upper = new Date(
    query.position?.before ?? (query.createdTo ?? new Date(now().getTime() + 60_000)).toISOString(),
  );
  if (query.createdTo && upper > query.createdTo) upper = query.createdTo;
  const excluded = new Set(query.position?.seen ?? []);
  let windowMs = FIRST_WINDOW_MS;
  let lookups = 0;
  let pagesRead = 0;

  const readWindow = async (from: Date, to: Date): Promise<DurableInstance[] | undefined> => {
    const found: DurableInstance[] = [];
    let token: string | undefined;
    for (let page = 0; ; page++) {
      if (page >= MAX_PAGES_PER_WINDOW || pagesRead >= MAX_SCANNED_PAGES) return undefined;
      pagesRead += 1;
      const listing = await management.listInstances({
        ...(query.statuses ? { runtimeStatus: query.statuses } : {}),
        createdTimeFrom: from,
        createdTimeTo: to,
        ...(query.idPrefix ? { instanceIdPrefix: query.idPrefix } : {}),
        top: SCAN_PAGE_SIZE,
        ...(token ? { continuationToken: token } : {}),
      });
      found.push(...listing.instances);
      token = listing.continuationToken;
      if (token === undefined) return found;
    }
  };

  while (upper >= floor && pagesRead < MAX_SCANNED_PAGES) {
    // Windows start on a whole second, so a run is in exactly one of them whatever its exact time.
    const start =
      Math.floor(Math.max(floor.getTime(), upper.getTime() - windowMs) / TIME_RESOLUTION_MS) *
      TIME_RESOLUTION_MS;
    const from = new Date(Math.max(floor.getTime(), start));
    // The Durable API reports creation times in whole seconds but filters on the exact time, so the
    // window asks up to the end of `upper`'s second and drops here what reads later than `upper`.
    const to = new Date(upper.getTime() + TIME_RESOLUTION_MS - 1);
    const instances = await readWindow(from, query.createdTo && to > query.createdTo ? query.createdTo : to);
    if (instances === undefined) {
      if (windowMs <= TIME_RESOLUTION_MS || pagesRead >= MAX_SCANNED_PAGES) break; // cannot narrow further
      windowMs = Math.max(TIME_RESOLUTION_MS, Math.floor(windowMs / WINDOW_GROWTH));
      continue;
    }
    const upperText = upper.toISOString();
    const candidates: RunSummary[] = [];
    for (let instance of instances) {
      if (!query.all && !isTopLevelRun(instance)) continue;
      const createdAt = new Date(instance.createdTime).toISOString();
      if (createdAt > upperText || (createdAt === upperText && excluded.has(instance.instanceId))) continue;
      let view = viewOf(instance);
      let summary = summaryOf(instance, view);
      if (summary.workflow === null && lookups < MAX_IDENTITY_LOOKUPS) {
        lookups += 1;
        instance = (await management.getInstance(instance.instanceId, { input: true })) ?? instance;
        view = viewOf(instance);
        summary = summaryOf(instance, view);
      }
      if (query.workflow !== undefined && summary.workflow !== query.workflow) continue;
      candidates.push(summary);
    }
    candidates.sort(newestFirst);
    for (const run of candidates) {
      runs.push(run);
      if (runs.length === query.pageSize) {
        const seen = runs.filter((r) => r.createdAt === run.createdAt).map((r) => r.id);
        const carried = run.createdAt === upperText ? [...excluded] : [];
        const position: ListPosition = { before: run.createdAt, seen: [...new Set([...carried, ...seen])] };
        const more = run !== candidates.at(-1) || from > floor;
        return { runs, ...(more ? { continuationToken: encodePosition(position) } : {}) };
      }
    }
    if (from <= floor) return { runs };
    // Everything created from `from` on has been taken (the filter is on the exact time); the next
    // window ends just before it, and drops what it reads again at `from`'s second.
    excluded.clear();
    upper = new Date(from.getTime() - 1);
    windowMs *= WINDOW_GROWTH;
  }
  // The scan budget ran out: what is returned is complete down to `upper`; carry on from there.
  return { runs, continuationToken: encodePosition({ before: upper.toISOString(), seen: [...excluded] }) };
}
