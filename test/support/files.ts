/**
 * Small real files for tests, written here from the format specs rather than kept as fixtures: a PNG
 * (RGB, filter 0 rows, zlib IDAT, optional tEXt chunks: https://www.w3.org/TR/png-3/) and a PDF with one
 * Helvetica text line per string on each page (ISO 32000-1: catalog, page tree, content stream, xref).
 */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A width x height RGB PNG of one colour, with `text` as tEXt chunks (keyword → text). */
export function pngBytes(options: { width: number; height: number; text?: Record<string, string> }): Buffer {
  const { width, height } = options;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const row = Buffer.alloc(1 + width * 3, 0x80);
  row[0] = 0; // filter: none
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  const texts = Object.entries(options.text ?? {}).map(([keyword, text]) =>
    chunk(
      'tEXt',
      Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]),
    ),
  );
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    ...texts,
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const pdfString = (text: string) => `(${text.replace(/([\\()])/g, '\\$1')})`;

/**
 * A PDF of `pages` pages, each showing `lines` (one `Tj` per line); `compress` deflates the content
 * streams (`/FlateDecode`), as most producers do.
 */
export function pdfBytes(options: { lines: readonly string[]; pages?: number; compress?: boolean }): Buffer {
  const pages = options.pages ?? 1;
  const content = [
    'BT /F1 11 Tf 72 740 Td 14 TL',
    ...options.lines.map((line) => `${pdfString(line)} Tj T*`),
    'ET',
  ].join('\n');
  const stream = options.compress
    ? deflateSync(Buffer.from(content, 'latin1'))
    : Buffer.from(content, 'latin1');
  const objects: Buffer[] = [];
  const pageIds = Array.from({ length: pages }, (_, index) => 5 + index);
  objects.push(Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'));
  objects.push(
    Buffer.from(`<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages} >>`),
  );
  objects.push(Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'));
  objects.push(
    Buffer.concat([
      Buffer.from(
        `<< /Length ${stream.length}${options.compress ? ' /Filter /FlateDecode' : ''} >>\nstream\n`,
      ),
      stream,
      Buffer.from('\nendstream'),
    ]),
  );
  for (let page = 0; page < pages; page++) {
    objects.push(
      Buffer.from(
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 3 0 R >> >> >>',
      ),
    );
  }
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const offsets: number[] = [];
  let at = parts[0]!.length;
  objects.forEach((body, index) => {
    offsets.push(at);
    const object = Buffer.concat([Buffer.from(`${index + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(object);
    at += object.length;
  });
  const xref = [
    'xref',
    `0 ${objects.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n `),
    'trailer',
    `<< /Size ${objects.length + 1} /Root 1 0 R >>`,
    'startxref',
    String(at),
    '%%EOF',
  ].join('\n');
  parts.push(Buffer.from(`${xref}\n`));
  return Buffer.concat(parts);
}

/** The invoice the document-intake tests use, as the JSON text a document shows. */
export const SAMPLE_INVOICE = {
  vendor: 'Contoso Office Supply',
  date: '2026-11-30',
  currency: 'EUR',
  lineItems: [
    { description: 'Paper, A4, 5 reams', quantity: 5, unitPrice: 4.5, amount: 22.5 },
    { description: 'Toner cartridge', quantity: 2, unitPrice: 61.25, amount: 122.5 },
  ],
  total: 145,
};

/** An invoice's JSON split over lines, as a PDF page shows it. */
export const invoiceLines = (invoice: object): string[] => JSON.stringify(invoice, null, 1).split('\n');
