import type { TypedData } from './types.js';

/**
 * The value a function returned, from the RPC typed data the library produced (toRpcTypedData):
 * strings stay strings, JSON is parsed, numbers are numbers, bytes become a Buffer.
 */
export function valueFromTypedData(data: TypedData | null): unknown {
  if (data === undefined || data === null) return undefined;
  if ('json' in data) return JSON.parse(data.json) as unknown;
  if ('string' in data) return data.string;
  if ('int' in data) return data.int;
  if ('double' in data) return data.double;
  if ('bytes' in data) return Buffer.from(data.bytes);
  return data.http;
}
