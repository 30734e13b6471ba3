/**
 * Constraints a schema carries in its `description`, the way the Anthropic SDK's transformJSONSchema
 * (node_modules/@anthropic-ai/sdk/src/lib/transform-json-schema.ts) writes the keywords Claude does not
 * support: a trailing `{minimum: 1, maxLength: 300}` (keyword, then JSON value). Real Claude reads and
 * follows them; so does the offline model, which merges them back before it makes a value, so an answer to a
 * transformed schema still fits the original one.
 */
const TRAILER = /(?:^|\n\n)\{([^\n]*)\}$/;
const KEY = /^([$A-Za-z][\w$]*): /;

/** The shortest JSON value at the start of `text` that ends at `, ` or at the end. */
function leadingJson(text: string): { value: unknown; rest: string } | undefined {
  for (let end = text.indexOf(', '); ; end = text.indexOf(', ', end + 1)) {
    const candidate = end < 0 ? text : text.slice(0, end);
    try {
      return { value: JSON.parse(candidate) as unknown, rest: end < 0 ? '' : text.slice(end + 2) };
    } catch {
      if (end < 0) return undefined;
    }
  }
}

export function constraintsFromDescription(description: unknown): Record<string, unknown> {
  if (typeof description !== 'string') return {};
  const trailer = TRAILER.exec(description)?.[1];
  if (trailer === undefined) return {};
  let rest: string = trailer;
  const result: Record<string, unknown> = {};
  while (rest.length > 0) {
    const key = KEY.exec(rest);
    const parsed: { value: unknown; rest: string } | undefined = key
      ? leadingJson(rest.slice(key[0].length))
      : undefined;
    if (!key?.[1] || !parsed) return {};
    result[key[1]] = parsed.value;
    rest = parsed.rest;
  }
  return result;
}
