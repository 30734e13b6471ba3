import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOfflineModelServer, type OfflineModelServer } from '../../../src/offline/offlineModelServer.js';
import { invoiceLines, pdfBytes, pngBytes, SAMPLE_INVOICE } from '../../support/files.js';

let server: OfflineModelServer;
beforeAll(async () => {
  server = await startOfflineModelServer();
});
afterAll(async () => {
  await server.stop();
});

/** The parts of both providers' answers these tests read. */
interface WireBody {
  usage: { input_tokens: number };
  content: { text: string }[];
  choices: { message: { content: string } }[];
  error: { type: string; message: string };
}

async function post(path: string, body: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as WireBody };
}

const b64 = (bytes: Buffer) => bytes.toString('base64');
const image = (data: string, mediaType = 'image/png') => ({
  type: 'image',
  source: { type: 'base64', media_type: mediaType, data },
});
const document = (data: string) => ({
  type: 'document',
  source: { type: 'base64', media_type: 'application/pdf', data },
});
const claude = (content: unknown[], extra: Record<string, unknown> = {}) =>
  post('/v1/messages', {
    model: 'claude-haiku-4-5',
    max_tokens: 500,
    messages: [{ role: 'user', content }],
    ...extra,
  });

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['vendor', 'total'],
  properties: { vendor: { type: 'string' }, total: { type: 'number' } },
};

describe('offline model: Claude image and document blocks', () => {
  it('counts an image as width*height/750 tokens, not its base64 text', async () => {
    // Same block envelope, images of 75,000 and 150,000 pixels: 100 and 200 tokens.
    const small = await claude([
      image(b64(pngBytes({ width: 300, height: 250 }))),
      { type: 'text', text: 'Describe.' },
    ]);
    const large = await claude([
      image(b64(pngBytes({ width: 600, height: 250 }))),
      { type: 'text', text: 'Describe.' },
    ]);
    expect(small.status).toBe(200);
    expect(large.body.usage.input_tokens - small.body.usage.input_tokens).toBe(100);
    const text = await claude([{ type: 'text', text: 'Describe.' }]);
    expect(small.body.usage.input_tokens - text.body.usage.input_tokens).toBeGreaterThanOrEqual(100);
  });

  it('extracts the fields a PDF or PNG shows into a structured answer', async () => {
    const pdf = pdfBytes({ lines: invoiceLines(SAMPLE_INVOICE), compress: true });
    const format = { output_config: { format: { type: 'json_schema', schema: SCHEMA } } };
    const fromPdf = await claude([document(b64(pdf)), { type: 'text', text: 'Extract.' }], format);
    expect(fromPdf.status).toBe(200);
    expect(JSON.parse(fromPdf.body.content[0]?.text ?? '')).toEqual({
      vendor: SAMPLE_INVOICE.vendor,
      total: 145,
    });
    const png = pngBytes({
      width: 40,
      height: 30,
      text: { Comment: JSON.stringify({ vendor: 'Fabrikam', total: 9.5 }) },
    });
    const fromPng = await claude([image(b64(png)), { type: 'text', text: 'Extract.' }], format);
    expect(JSON.parse(fromPng.body.content[0]?.text ?? '')).toEqual({ vendor: 'Fabrikam', total: 9.5 });
    // A one-page PDF: 1,500 tokens for the page plus its text.
    const textOnly = await claude([{ type: 'text', text: 'Extract.' }], format);
    expect(fromPdf.body.usage.input_tokens - textOnly.body.usage.input_tokens).toBeGreaterThan(1500);
  });

  it("rejects what the API rejects, with the API's wording", async () => {
    const png = pngBytes({ width: 2, height: 2 });
    const pdf = pdfBytes({ lines: ['x'] });
    const cases: [unknown[], RegExp][] = [
      [
        [image(b64(pdf))],
        /^messages\.0\.content\.0\.image\.source\.base64\.data: Image does not match the provided media type image\/png$/,
      ],
      [[image(b64(png), 'image/bmp')], /media_type: Input should be 'image\/jpeg'/],
      [[image('@@@')], /not valid base64/],
      [
        [image(b64(pngBytes({ width: 8001, height: 1 })))],
        /At least one of the image dimensions exceed max allowed size: 8000 pixels/,
      ],
      [
        [document(b64(pdfBytes({ lines: ['x'], pages: 101 })))],
        /A maximum of 100 PDF pages may be provided\./,
      ],
      [[document(b64(png))], /The PDF specified was not valid\./],
    ];
    for (const [content, message] of cases) {
      const result = await claude([...content, { type: 'text', text: 'Describe.' }]);
      expect(result.status, JSON.stringify(content).slice(0, 80)).toBe(400);
      expect(result.body.error.type).toBe('invalid_request_error');
      expect(result.body.error.message).toMatch(message);
    }
    const huge = 'A'.repeat(5 * 1024 * 1024 + 4);
    const tooBig = await claude([image(huge)]);
    expect(tooBig.body.error.message).toBe(
      `messages.0.content.0.image.source.base64: image exceeds 5 MB maximum: ${huge.length} bytes > 5242880 bytes`,
    );
  });

  it('checks images inside tool results too', async () => {
    const result = await post('/v1/messages', {
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      tools: [{ name: 'run_code', description: 'runs', input_schema: { type: 'object', properties: {} } }],
      messages: [
        { role: 'user', content: 'Chart it.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'tu_1', name: 'run_code', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'tu_1',
              content: [{ type: 'text', text: 'done' }, image(b64(pdfBytes({ lines: ['x'] })))],
            },
          ],
        },
      ],
    });
    expect(result.status).toBe(400);
    expect(result.body.error.message).toMatch(
      /^messages\.2\.content\.0\.content\.1\.image\.source\.base64\.data: Image does not match/,
    );
  });
});

describe('offline model: OpenAI image and file parts', () => {
  const dataUrl = (type: string, bytes: Buffer) => `data:${type};base64,${b64(bytes)}`;
  const png = pngBytes({ width: 512, height: 512 });
  const pdf = pdfBytes({ lines: invoiceLines(SAMPLE_INVOICE) });

  it('accepts Chat Completions image_url and file parts, and reads the file', async () => {
    const result = await post('/v1/chat/completions', {
      model: 'gpt-5.4',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: dataUrl('image/png', png) } },
            { type: 'file', file: { filename: 'invoice.pdf', file_data: dataUrl('application/pdf', pdf) } },
            { type: 'text', text: 'Extract.' },
          ],
        },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: SCHEMA, strict: true } },
    });
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(JSON.parse(result.body.choices[0]?.message.content ?? '')).toEqual({
      vendor: SAMPLE_INVOICE.vendor,
      total: 145,
    });
  });

  it('accepts Responses input_image / input_file and refuses a mislabelled file', async () => {
    const ok = await post('/v1/responses', {
      model: 'gpt-5.4',
      store: false,
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_image', image_url: dataUrl('image/png', png), detail: 'auto' },
            { type: 'input_text', text: 'Describe.' },
          ],
        },
      ],
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const bad = await post('/v1/responses', {
      model: 'gpt-5.4',
      store: false,
      input: [
        {
          role: 'user',
          content: [{ type: 'input_file', filename: 'x.pdf', file_data: dataUrl('application/pdf', png) }],
        },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^input\.0\.content\.0: Invalid file data/);
  });
});
