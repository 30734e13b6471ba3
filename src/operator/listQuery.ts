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

const PARAMETERS = [
  'status',
  'workflow',
  'createdFrom',
  'createdTo',
  'idPrefix',
  'pageSize',
  'continuationToken',
  'all',
  'code', // the function key, when sent in the query
] as const;

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

/** Where a listing stopped: a Durable page (its token and size) and how many of its instances were used. */
export interface ListPosition {
  readonly durableToken?: string;
  readonly pageTop: number;
  readonly skip: number;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function encodePosition(position: ListPosition): string {
  return Buffer.from(
    JSON.stringify({ d: position.durableToken, t: position.pageTop, s: position.skip }),
  ).toString('base64url');
}

export function decodePosition(token: string): ListPosition | undefined {
  try {
    const raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { d, t, s } = raw;
    if ((d !== undefined && typeof d !== 'string') || !Number.isInteger(t) || !Number.isInteger(s))
      return undefined;
    if ((t as number) < 1 || (s as number) < 0) return undefined;
    return { ...(d === undefined ? {} : { durableToken: d }), pageTop: t as number, skip: s as number };
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
      fail(name, `unknown parameter; use ${PARAMETERS.filter((p) => p !== 'code').join(', ')}`);
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

/**
 * One page of runs. Durable filters status, creation time and id prefix; the top-level and workflow
 * filters happen here, so several Durable pages may be read, and a page may stop inside one of them.
 */
export async function listRuns(
  management: DurableManagement,
  query: RunListQuery,
): Promise<{ runs: RunSummary[]; continuationToken?: string }> {
  const runs: RunSummary[] = [];
  let lookups = 0;
  let position: ListPosition = query.position ?? { pageTop: SCAN_PAGE_SIZE, skip: 0 };
  for (let scanned = 0; scanned < MAX_SCANNED_PAGES; scanned++) {
    const page = await management.listInstances({
      ...(query.statuses ? { runtimeStatus: query.statuses } : {}),
      ...(query.createdFrom ? { createdTimeFrom: query.createdFrom } : {}),
      ...(query.createdTo ? { createdTimeTo: query.createdTo } : {}),
      ...(query.idPrefix ? { instanceIdPrefix: query.idPrefix } : {}),
      top: position.pageTop,
      ...(position.durableToken ? { continuationToken: position.durableToken } : {}),
    });
    for (let index = position.skip; index < page.instances.length; index++) {
      let instance = page.instances[index] as DurableInstance;
      if (!query.all && !isTopLevelRun(instance)) continue;
      let view = viewOf(instance);
      if (view.workflow === null && lookups < MAX_IDENTITY_LOOKUPS) {
        lookups += 1;
        instance = (await management.getInstance(instance.instanceId, { input: true })) ?? instance;
        view = viewOf(instance);
      }
      if (query.workflow !== undefined && view.workflow !== query.workflow) continue;
      runs.push(summaryOf(instance, view));
      if (runs.length === query.pageSize) {
        const more = index + 1 < page.instances.length || page.continuationToken !== undefined;
        const next: ListPosition = { ...position, skip: index + 1 };
        return { runs, ...(more ? { continuationToken: encodePosition(next) } : {}) };
      }
    }
    if (page.continuationToken === undefined) return { runs };
    position = { durableToken: page.continuationToken, pageTop: SCAN_PAGE_SIZE, skip: 0 };
  }
  return { runs, continuationToken: encodePosition(position) };
}
