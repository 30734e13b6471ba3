import { RUNTIME_STATUSES, type RuntimeStatus } from '../durable/backend.js';

/** A client error the Durable HTTP API reports as 400 with this message. */
export class BadRequest extends Error {}

export function queryValue(query: URLSearchParams, name: string): string | undefined {
  // ASP.NET query keys are case-insensitive.
  for (const [key, value] of query) if (key.toLowerCase() === name.toLowerCase()) return value;
  return undefined;
}

export function boolParam(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const raw = queryValue(query, name);
  if (raw === undefined || raw === '') return fallback;
  const lower = raw.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new BadRequest(`Query parameter '${name}' must be true or false, got '${raw}'.`);
}

export function dateParam(query: URLSearchParams, name: string): Date | undefined {
  const raw = queryValue(query, name);
  if (raw === undefined || raw === '') return undefined;
  // A '+' in an unencoded ISO offset arrives as a space.
  const normalized = raw.trim().replace(/ (\d\d:?\d\d)$/, '+$1');
  const time = Date.parse(normalized);
  if (Number.isNaN(time))
    throw new BadRequest(`Query parameter '${name}' must be an ISO-8601 date, got '${raw}'.`);
  return new Date(time);
}

export function positiveIntParam(query: URLSearchParams, name: string): number | undefined {
  const raw = queryValue(query, name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > 2 ** 31 - 1) {
    throw new BadRequest(`Query parameter '${name}' must be a positive integer, got '${raw}'.`);
  }
  return Number(raw);
}

/** Seconds, possibly fractional, as the extension's TryGetTimeSpanQueryParameterValue reads them. */
export function secondsParam(query: URLSearchParams, name: string): number | undefined {
  const raw = queryValue(query, name);
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || raw.trim() === '') {
    throw new BadRequest(`Query parameter '${name}' must be a non-negative number of seconds, got '${raw}'.`);
  }
  return value;
}

export function statusListParam(query: URLSearchParams, name: string): RuntimeStatus[] | undefined {
  const raw = query
    .getAll(name)
    .concat(
      [...query].filter(([k]) => k !== name && k.toLowerCase() === name.toLowerCase()).map(([, v]) => v),
    );
  const items = raw
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (items.length === 0) return undefined;
  const out: RuntimeStatus[] = [];
  for (const item of items) {
    const status = RUNTIME_STATUSES.find((s) => s.toLowerCase() === item.toLowerCase());
    if (!status) {
      throw new BadRequest(
        `Query parameter '${name}' has unknown status '${item}' (expected any of ${RUNTIME_STATUSES.join(', ')}).`,
      );
    }
    if (!out.includes(status)) out.push(status);
  }
  return out;
}

const TERMINAL: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Canceled', 'Terminated'];
export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL.includes(status);
}

/**
 * Durable instance id rules (DurableClient.StartNewAsync): not empty or blank, no '/', '\', '#',
 * '?' or control characters, must not start with '@' (entity ids), at most 256 characters.
 */
export function instanceIdProblem(id: string): string | undefined {
  if (id.trim() === '') return 'Instance ID must not be empty or whitespace.';
  if (id.length > 256) return `Instance ID lengths must not exceed 256 characters (got ${id.length}).`;
  if (id.startsWith('@')) return 'Orchestration instance ids must not start with @.';
  // eslint-disable-next-line no-control-regex
  if (/[/\\#?\u0000-\u001f\u007f-\u009f]/.test(id)) {
    return 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.';
  }
  return undefined;
}
