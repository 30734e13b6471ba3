import { describe, expect, it } from 'vitest';
import {
  claudeFileTokens,
  limitProblem,
  CLAUDE_FILE_LIMITS,
  OPENAI_FILE_LIMITS,
  strictestLimits,
} from '../../../src/files/limits.js';
import { describeBytes, imageSize, pdfFacts, sniffMediaType } from '../../../src/files/sniff.js';
import { documentText, jsonObjectIn } from '../../../src/offline/documentText.js';
import { pdfBytes, pngBytes } from '../../support/files.js';

/** Minimal headers for the formats the tests do not generate whole. */
const gif = (w: number, h: number) => {
  const b = Buffer.alloc(13);
  b.write('GIF89a', 0, 'latin1');
  b.writeUInt16LE(w, 6);
  b.writeUInt16LE(h, 8);
  return b;
};
const jpeg = (w: number, h: number) =>
  Buffer.from([
    0xff,
    0xd8,
    0xff,
    0xe0,
    0x00,
    0x04,
    0x00,
    0x00,
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    h >> 8,
    h & 255,
    w >> 8,
    w & 255,
    3,
    0,
    0,
    0,
    0,
  ]);
const webpVp8x = (w: number, h: number) => {
  const b = Buffer.alloc(30);
  b.write('RIFF', 0, 'latin1');
  b.write('WEBP', 8, 'latin1');
  b.write('VP8X', 12, 'latin1');
  b.writeUIntLE(w - 1, 24, 3);
  b.writeUIntLE(h - 1, 27, 3);
  return b;
};

describe('file sniffing', () => {
  it('names each accepted format by its magic number and reads its size', () => {
    const png = pngBytes({ width: 37, height: 12 });
    expect(sniffMediaType(png)).toBe('image/png');
    expect(imageSize(png, 'image/png')).toEqual({ width: 37, height: 12 });
    expect(imageSize(jpeg(640, 480), 'image/jpeg')).toEqual({ width: 640, height: 480 });
    expect(imageSize(gif(3, 9), 'image/gif')).toEqual({ width: 3, height: 9 });
    expect(sniffMediaType(webpVp8x(1, 1))).toBe('image/webp');
    expect(imageSize(webpVp8x(9000, 20), 'image/webp')).toEqual({ width: 9000, height: 20 });
    expect(sniffMediaType(pdfBytes({ lines: ['hi'] }))).toBe('application/pdf');
  });

  it('counts PDF pages (page objects, not the page tree) and refuses what is none of the types', () => {
    expect(pdfFacts(pdfBytes({ lines: ['a'], pages: 3 })).pages).toBe(3);
    expect(describeBytes(Buffer.from('<html>not a file</html>'))).toMatchObject({ ok: false });
    expect(describeBytes(pngBytes({ width: 1, height: 1 }).subarray(0, 20))).toMatchObject({
      ok: false,
      problem: expect.stringContaining('truncated') as unknown,
    });
  });

  it('reads the text a PNG and a PDF (plain or deflated) show', () => {
    const png = pngBytes({ width: 2, height: 2, text: { Description: '{"total": 12.5}' } });
    expect(jsonObjectIn(documentText(png, 'image/png'))).toEqual({ total: 12.5 });
    for (const compress of [false, true]) {
      const pdf = pdfBytes({ lines: ['Invoice (copy)', '{"vendor": "A\\\\B"}'], compress });
      expect(documentText(pdf, 'application/pdf')).toBe('Invoice (copy)\n{"vendor": "A\\\\B"}');
    }
  });
});

describe('file limits', () => {
  it("measures Claude's 5 MB image limit on the base64 text and checks pixels and pages", () => {
    const raw = Math.floor((5 * 1024 * 1024 * 3) / 4); // exactly 5 MB as base64
    expect(
      limitProblem({ mediaType: 'image/png', bytes: raw, width: 10, height: 10 }, CLAUDE_FILE_LIMITS),
    ).toBeUndefined();
    expect(
      limitProblem({ mediaType: 'image/png', bytes: raw + 3, width: 10, height: 10 }, CLAUDE_FILE_LIMITS),
    ).toMatch(/as base64; Claude takes at most 5242880/);
    expect(
      limitProblem({ mediaType: 'image/png', bytes: raw + 3, width: 10, height: 10 }, OPENAI_FILE_LIMITS),
    ).toBeUndefined();
    expect(
      limitProblem({ mediaType: 'image/webp', bytes: 10, width: 8001, height: 5 }, CLAUDE_FILE_LIMITS),
    ).toMatch(/8000 px/);
    expect(limitProblem({ mediaType: 'application/pdf', bytes: 10, pages: 101 }, CLAUDE_FILE_LIMITS)).toMatch(
      /101 pages/,
    );
    expect(
      limitProblem(
        { mediaType: 'application/pdf', bytes: 10, pages: 1, encrypted: true },
        CLAUDE_FILE_LIMITS,
      ),
    ).toMatch(/encrypted/);
    const both = strictestLimits([CLAUDE_FILE_LIMITS, OPENAI_FILE_LIMITS]);
    expect(both).toMatchObject({
      imageMaxBytes: 5 * 1024 * 1024,
      imageBytesAreBase64: true,
      imageMaxSide: 8000,
    });
  });

  it('counts Claude image tokens as width*height/750 after the 1568-px resize, PDFs per page', () => {
    expect(claudeFileTokens({ mediaType: 'image/png', width: 1000, height: 1000 })).toBe(1334);
    expect(claudeFileTokens({ mediaType: 'image/png', width: 3136, height: 1568 })).toBe(
      Math.ceil((1568 * 784) / 750),
    );
    expect(claudeFileTokens({ mediaType: 'application/pdf', pages: 2 }, 40)).toBe(3040);
  });
});
