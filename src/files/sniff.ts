/**
 * What a file is, from its bytes alone: media type by magic number, image dimensions from the header,
 * PDF page count. Hand-written rather than a library: each format needs a few header bytes only, and
 * the offline model must judge bytes exactly as the starter does (test/unit/files/sniff.test.ts pins
 * every format). Format sources: PNG https://www.w3.org/TR/png-3/#5PNG-file-signature (IHDR first);
 * JPEG ITU T.81 Annex B (SOFn markers); GIF89a spec (logical screen descriptor); WebP
 * https://developers.google.com/speed/webp/docs/riff_container (VP8 / VP8L / VP8X); PDF ISO 32000-1 §7.5.2
 * (header), §7.7.3.3 (page objects).
 */
import type { FileMediaType } from '../shared/fileTypes.js';

export interface FileFacts {
  readonly mediaType: FileMediaType;
  readonly bytes: number;
  readonly width?: number;
  readonly height?: number;
  readonly pages?: number;
  /** PDF: the file declares encryption (`/Encrypt` in a trailer). */
  readonly encrypted?: boolean;
}

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0): boolean =>
  prefix.every((value, index) => bytes[at + index] === value);
const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The media type the bytes are, or undefined when they are none of the accepted types. */
export function sniffMediaType(bytes: Uint8Array): FileMediaType | undefined {
  if (startsWith(bytes, PNG)) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'image/gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'image/webp';
  if (startsWith(bytes, ascii('%PDF-'))) return 'application/pdf';
  return undefined;
}

const u16be = (b: Uint8Array, at: number) => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
const u16le = (b: Uint8Array, at: number) => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] ?? 0) << 16);
const u32be = (b: Uint8Array, at: number) => u16be(b, at) * 0x10000 + u16be(b, at + 2);

type Size = { width: number; height: number };

function pngSize(b: Uint8Array): Size | undefined {
  // Signature, then the IHDR chunk: length (4), "IHDR" (4), width (4), height (4).
  if (b.length < 24 || !startsWith(b, ascii('IHDR'), 12)) return undefined;
  return { width: u32be(b, 16), height: u32be(b, 20) };
}

function jpegSize(b: Uint8Array): Size | undefined {
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: u16be(b, at + 5), width: u16be(b, at + 7) };
    }
    if (marker === 0xd9 || marker === 0xda) return undefined;
    at += 2 + u16be(b, at + 2);
  }
  return undefined;
}

function gifSize(b: Uint8Array): Size | undefined {
  return b.length < 10 ? undefined : { width: u16le(b, 6), height: u16le(b, 8) };
}

function webpSize(b: Uint8Array): Size | undefined {
  if (b.length < 30) return undefined;
  if (startsWith(b, ascii('VP8 '), 12)) {
    return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  if (startsWith(b, ascii('VP8L'), 12)) {
    const b1 = b[22] ?? 0;
    const b2 = b[23] ?? 0;
    const b3 = b[24] ?? 0;
    return {
      width: 1 + ((b[21] ?? 0) | ((b1 & 0x3f) << 8)),
      height: 1 + ((b1 >> 6) | (b2 << 2) | ((b3 & 0x0f) << 10)),
    };
  }
  if (startsWith(b, ascii('VP8X'), 12)) return { width: 1 + u24le(b, 24), height: 1 + u24le(b, 27) };
  return undefined;
}

/** Pixel size of an image, or undefined when the header cannot be read. */
export function imageSize(bytes: Uint8Array, mediaType: FileMediaType): Size | undefined {
  switch (mediaType) {
    case 'image/png':
      return pngSize(bytes);
    case 'image/jpeg':
      return jpegSize(bytes);
    case 'image/gif':
      return gifSize(bytes);
    case 'image/webp':
      return webpSize(bytes);
    case 'application/pdf':
      return undefined;
  }
}

/**
 * Pages of a PDF: the page objects (`/Type /Page`, not `/Pages`) in its uncompressed objects, or, when
 * they sit in compressed object streams, the largest `/Count` of a page tree node. Undefined when neither
 * is readable (the caller then reports the document as unreadable).
 */
export function pdfFacts(bytes: Uint8Array): { pages?: number; encrypted: boolean } {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const pageObjects = text.match(/\/Type\s*\/Page(?![A-Za-z])/g)?.length ?? 0;
  let pages: number | undefined = pageObjects > 0 ? pageObjects : undefined;
  if (pages === undefined) {
    const counts = [...text.matchAll(/\/Count\s+(\d+)/g)].map((match) => Number(match[1]));
    if (counts.length > 0) pages = Math.max(...counts);
  }
  return { ...(pages === undefined ? {} : { pages }), encrypted: /\/Encrypt\s/.test(text) };
}

/** Everything the bytes say, or a problem naming why they are not an accepted file. */
export function describeBytes(
  bytes: Uint8Array,
): { ok: true; facts: FileFacts } | { ok: false; problem: string } {
  const mediaType = sniffMediaType(bytes);
  if (!mediaType) {
    return {
      ok: false,
      problem: 'is not a PNG, JPEG, GIF, WebP or PDF file (its first bytes match none of them)',
    };
  }
  if (mediaType === 'application/pdf') {
    const pdf = pdfFacts(bytes);
    if (pdf.pages === undefined) return { ok: false, problem: 'is a PDF whose pages cannot be found' };
    return {
      ok: true,
      facts: { mediaType, bytes: bytes.length, pages: pdf.pages, encrypted: pdf.encrypted },
    };
  }
  const size = imageSize(bytes, mediaType);
  if (!size || size.width === 0 || size.height === 0) {
    return { ok: false, problem: `is a truncated or malformed ${mediaType} (no readable image size)` };
  }
  return { ok: true, facts: { mediaType, bytes: bytes.length, ...size } };
}
