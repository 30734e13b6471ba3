/**
 * The text the offline model "reads" in an image or PDF, so its answers come from the bytes: a PNG's
 * text chunks (tEXt, zTXt, iTXt: https://www.w3.org/TR/png-3/#11textinfo) and the strings a PDF's content
 * streams show (`(…) Tj`, `[…] TJ`, ISO 32000-1 §9.4.3; streams with `/FlateDecode` inflated, §7.4.4).
 * Other images carry no readable text here. Deterministic: the same bytes give the same text.
 */
import { inflateSync } from 'node:zlib';

function pngText(bytes: Buffer): string[] {
  const texts: string[] = [];
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const data = bytes.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    const nul = data.indexOf(0);
    if (nul < 0) continue;
    try {
      if (type === 'tEXt') texts.push(data.subarray(nul + 1).toString('latin1'));
      else if (type === 'zTXt') texts.push(inflateSync(data.subarray(nul + 2)).toString('latin1'));
      else if (type === 'iTXt') {
        const compressed = data[nul + 1] === 1;
        const language = data.indexOf(0, nul + 3);
        const translated = language < 0 ? -1 : data.indexOf(0, language + 1);
        if (translated < 0) continue;
        const body = data.subarray(translated + 1);
        texts.push((compressed ? inflateSync(body) : body).toString('utf8'));
      }
    } catch {
      // A damaged chunk shows no text, as a reader skipping it would.
    }
    if (type === 'IEND') break;
  }
  return texts;
}

/** A PDF literal string's bytes (`(…)` with its escapes, §7.3.4.2), starting after the `(`. */
function literalString(content: string, start: number): { text: string; end: number } {
  let depth = 1;
  let text = '';
  let at = start;
  const escapes: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };
  while (at < content.length && depth > 0) {
    const char = content[at] ?? '';
    if (char === '\\') {
      const next = content[at + 1] ?? '';
      const octal = /^[0-7]{1,3}/.exec(content.slice(at + 1, at + 4));
      if (octal) {
        text += String.fromCharCode(parseInt(octal[0], 8));
        at += 1 + octal[0].length;
        continue;
      }
      text += escapes[next] ?? (next === '\n' ? '' : next);
      at += 2;
      continue;
    }
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (depth > 0) text += char;
    at += 1;
  }
  return { text, end: at };
}

/** The strings a content stream shows, one line per text-showing operator. */
function shownText(content: string): string[] {
  const lines: string[] = [];
  let pending: string[] = [];
  for (let at = 0; at < content.length; at++) {
    const char = content[at];
    if (char === '(') {
      const literal = literalString(content, at + 1);
      pending.push(literal.text);
      at = literal.end - 1;
    } else if (content.startsWith('Tj', at) || content.startsWith('TJ', at) || content.startsWith("'", at)) {
      if (pending.length > 0) lines.push(pending.join(''));
      pending = [];
    } else if (content.startsWith('ET', at)) {
      pending = [];
    }
  }
  return lines;
}

function pdfText(bytes: Buffer): string[] {
  const raw = bytes.toString('latin1');
  const lines: string[] = [];
  const streams = /<<((?:(?!>>\s*stream)[\s\S])*)>>\s*stream\r?\n/g;
  for (let match = streams.exec(raw); match; match = streams.exec(raw)) {
    const start = match.index + match[0].length;
    const end = raw.indexOf('endstream', start);
    if (end < 0) break;
    const data = bytes.subarray(start, end);
    let content: string;
    try {
      content = /\/FlateDecode/.test(match[1] ?? '')
        ? inflateSync(data).toString('latin1')
        : data.toString('latin1');
    } catch {
      continue;
    }
    lines.push(...shownText(content));
    streams.lastIndex = end;
  }
  return lines;
}

/** The readable text of a file's bytes ('' when it shows none). */
export function documentText(bytes: Buffer, mediaType: string): string {
  if (mediaType === 'image/png') return pngText(bytes).join('\n');
  if (mediaType === 'application/pdf') return pdfText(bytes).join('\n');
  return '';
}

/** The first JSON object in `text`, if any: what the offline model takes a document's fields from. */
export function jsonObjectIn(text: string): Record<string, unknown> | undefined {
  for (let start = text.indexOf('{'); start >= 0; start = text.indexOf('{', start + 1)) {
    for (let end = text.lastIndexOf('}'); end > start; end = text.lastIndexOf('}', end - 1)) {
      try {
        const value: unknown = JSON.parse(text.slice(start, end + 1));
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
          return value as Record<string, unknown>;
        }
      } catch {
        // Not this span; try a shorter one.
      }
    }
  }
  return undefined;
}
