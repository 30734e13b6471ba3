/**
 * Untrusted JSON text, as every entry point receives it (HTTP bodies, queue messages): strict UTF-8, a
 * nesting limit, then `JSON.parse`. One place, so the HTTP starter, the run-action and operator routes
 * and the queue trigger refuse the same things with the same reasons.
 */

/**
 * Deepest nesting of arrays and objects accepted (`{}` is 1 level, `{"a":[1]}` 2). V8's `JSON.parse`
 * copes with any depth, but what the value goes through next recurses (`structuredClone`, Ajv, zod,
 * `JSON.stringify`) and overflows the stack at a few thousand levels. 32 leaves room for the run input's
 * wrapper under the 64 levels the .NET serializers of the Functions host and Durable extension accept by
 * default (System.Text.Json `JsonSerializerOptions.MaxDepth`, Json.NET 13 `MaxDepth`:
 * https://learn.microsoft.com/dotnet/api/system.text.json.jsonserializeroptions.maxdepth).
 */
export const MAX_JSON_DEPTH = 32;

export type JsonTextProblem =
  | { readonly kind: 'invalid-utf8'; readonly reason: string }
  | { readonly kind: 'too-deep'; readonly reason: string }
  | { readonly kind: 'invalid-json'; readonly reason: string };

/**
 * Bytes as UTF-8, refusing malformed sequences instead of turning them into U+FFFD (which would let two
 * different bodies read alike). The WHATWG decoder's fatal mode: https://encoding.spec.whatwg.org/#decoder
 */
export function decodeUtf8(
  bytes: Uint8Array,
): { ok: true; text: string } | { ok: false; problem: JsonTextProblem } {
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    return { ok: false, problem: { kind: 'invalid-utf8', reason: invalidUtf8Reason(bytes) } };
  }
}

/** Names the first byte where `bytes` stop being UTF-8: the longest prefix a streaming decode accepts. */
function invalidUtf8Reason(bytes: Uint8Array): string {
  const validPrefix = (end: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let low = 0;
  let high = bytes.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (validPrefix(middle)) low = middle;
    else high = middle - 1;
  }
  const offset = Math.min(low, Math.max(0, bytes.length - 1));
  const byte = (bytes[offset] ?? 0).toString(16).padStart(2, '0');
  return `the text is not valid UTF-8 (byte ${offset} is 0x${byte}); send UTF-8`;
}

/**
 * Where `text` first nests deeper than `maxDepth`, or undefined when it does not. A linear scan that only
 * tracks strings and brackets: malformed text is left for `JSON.parse` to describe.
 */
export function nestingProblem(text: string, maxDepth = MAX_JSON_DEPTH): JsonTextProblem | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) {
        return {
          kind: 'too-deep',
          reason: `the JSON nests arrays and objects deeper than ${maxDepth} levels (at character ${i}); flatten it`,
        };
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
}

/** Text to a JSON value: nesting first (so nothing deep is ever built), then `JSON.parse`. */
export function parseJsonText(
  text: string,
): { ok: true; value: unknown } | { ok: false; problem: JsonTextProblem } {
  const deep = nestingProblem(text);
  if (deep) return { ok: false, problem: deep };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const reason = text.trim() === '' ? 'The body is empty' : (error as Error).message;
    return { ok: false, problem: { kind: 'invalid-json', reason } };
  }
}

/** Bytes to a JSON value: strict UTF-8, the nesting limit, then the parse. */
export function parseJsonBytes(
  bytes: Uint8Array,
): { ok: true; value: unknown; text: string } | { ok: false; problem: JsonTextProblem } {
  const decoded = decodeUtf8(bytes);
  if (!decoded.ok) return decoded;
  const parsed = parseJsonText(decoded.text);
  return parsed.ok ? { ...parsed, text: decoded.text } : parsed;
}
