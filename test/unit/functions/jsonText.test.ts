import { describe, expect, it } from 'vitest';
import {
  decodeUtf8,
  MAX_JSON_DEPTH,
  nestingProblem,
  parseJsonBytes,
  parseJsonText,
} from '../../../src/shared/jsonText.js';

const nested = (levels: number, open = '[', close = ']') => open.repeat(levels) + close.repeat(levels);

describe('nesting limit', () => {
  it(`accepts ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1}, naming the limit and where`, () => {
    expect(parseJsonText(nested(MAX_JSON_DEPTH))).toMatchObject({ ok: true });
    const deep = parseJsonText(`{"a":${nested(MAX_JSON_DEPTH)}}`);
    expect(deep).toEqual({
      ok: false,
      problem: {
        kind: 'too-deep',
        reason: `the JSON nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels (at character ${5 + MAX_JSON_DEPTH - 1}); flatten it`,
      },
    });
  });

  it('refuses 20,000 levels without building them', () => {
    expect(parseJsonText(nested(20_000, '{"a":', '}'))).toMatchObject({
      ok: false,
      problem: { kind: 'too-deep' },
    });
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: '['.repeat(100) + '\\"[[[' + '{'.repeat(100) });
    expect(nestingProblem(text)).toBeUndefined();
    expect(parseJsonText(text)).toMatchObject({ ok: true });
  });

  it('leaves malformed text to JSON.parse, and names an empty body', () => {
    expect(parseJsonText('{"a":')).toMatchObject({ ok: false, problem: { kind: 'invalid-json' } });
    expect(parseJsonText('  ')).toEqual({
      ok: false,
      problem: { kind: 'invalid-json', reason: 'The body is empty' },
    });
  });
});

describe('strict UTF-8', () => {
  const bytes = (...values: number[]) => Uint8Array.from(values);
  it.each([
    ['a lone continuation byte', bytes(0x7b, 0x7d, 0x80), 2],
    ['an invalid lead byte', bytes(0x22, 0xff, 0x22), 1],
    ['an overlong encoding of "/"', bytes(0x22, 0xc0, 0xaf, 0x22), 1],
    ['an encoded surrogate (0xED then 0xA0)', bytes(0x22, 0xed, 0xa0, 0x80, 0x22), 2],
    ['a truncated sequence at the end', bytes(0x22, 0x61, 0xe2, 0x82), 3],
  ])('refuses %s, naming the byte', (_name, input, offset) => {
    const decoded = decodeUtf8(input);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.problem.kind).toBe('invalid-utf8');
    expect(decoded.problem.reason).toMatch(
      new RegExp(`^the text is not valid UTF-8 \\(byte ${offset} is 0x`),
    );
  });

  it('accepts UTF-8 text (a leading BOM is dropped) and parses it', () => {
    const text = JSON.stringify({ subject: 'Grüße 👋', body: '日本語' });
    expect(parseJsonBytes(Buffer.from(`\ufeff${text}`, 'utf8'))).toEqual({
      ok: true,
      value: JSON.parse(text) as unknown,
      text,
    });
  });
});
