import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobFileIntake, type BlobFiles } from '../../../src/files/blobFiles.js';
import { CLAUDE_FILE_LIMITS, OPENAI_FILE_LIMITS } from '../../../src/files/limits.js';
import { createUrlPolicy, parseAllowHosts } from '../../../src/net/urlPolicy.js';
import { pdfBytes, pngBytes } from '../../support/files.js';
import { loopbackPolicy } from '../../support/urlPolicies.js';

const png = pngBytes({ width: 20, height: 10 });
const pdf = pdfBytes({ lines: ['Invoice'] });
const blobs = new Map<string, Buffer>([
  ['inbox/scan.png', png],
  ['agent-artifacts/files/earlier.pdf', pdf],
  ['private/secret.png', png],
]);
const saved = new Map<string, Buffer>();
const files: BlobFiles = {
  readBlob: (container, name) => Promise.resolve(blobs.get(`${container}/${name}`)),
  readRef: () => Promise.resolve(Buffer.alloc(0)),
  save: (name, body) => {
    saved.set(name, body);
    return Promise.resolve(`agent-artifacts/${name}`);
  },
};
const places = {
  artifactsContainer: () => 'agent-artifacts',
  allowedContainers: () => ['agent-artifacts', 'inbox'],
};
// Public-looking names resolve to loopback only for the test server (the guard still checks the address).
const resolver = (host: string) =>
  Promise.resolve(host === 'files.example.test' ? ['127.0.0.1'] : ['10.0.0.7']);

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/receipt.png') response.end(png);
    else if (request.url === '/page.html') response.end('<html><body>hello</body></html>');
    else {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const intake = (loopback = true) =>
  createBlobFileIntake(files, places, {
    // Without the test's loopback policy, the app's: even 127.0.0.1 on the operator allow-list is no help.
    urlPolicy: loopback
      ? loopbackPolicy(resolver)
      : createUrlPolicy({ resolver, allowHosts: parseAllowHosts('127.0.0.1').allowHosts }),
    timeoutMs: 5000,
  });

describe('file intake', () => {
  it('stores inline data content-addressed and reports what the bytes are', async () => {
    const result = await intake().accept(
      { data: png.toString('base64'), mediaType: 'image/png' },
      CLAUDE_FILE_LIMITS,
    );
    expect(result).toMatchObject({
      ok: true,
      file: { mediaType: 'image/png', bytes: png.length, width: 20, height: 10 },
    });
    if (!result.ok) return;
    expect(result.file.artifact).toMatch(/^agent-artifacts\/files\/[0-9a-f]{64}\.png$/);
    expect(saved.get(result.file.artifact.replace('agent-artifacts/', ''))?.equals(png)).toBe(true);
  });

  it('fetches URLs through the SSRF guard and reads blobs only from allowed containers', async () => {
    const url = await intake().accept(
      { url: `http://files.example.test:${port}/receipt.png` },
      CLAUDE_FILE_LIMITS,
    );
    expect(url).toMatchObject({ ok: true, file: { mediaType: 'image/png', width: 20 } });
    const blob = await intake().accept({ blob: 'inbox/scan.png' }, CLAUDE_FILE_LIMITS);
    expect(blob).toMatchObject({ ok: true, file: { mediaType: 'image/png' } });
    // Already in the artifacts container: kept where it is.
    const artifact = await intake().accept(
      { artifact: 'agent-artifacts/files/earlier.pdf' },
      CLAUDE_FILE_LIMITS,
    );
    expect(artifact).toMatchObject({
      ok: true,
      file: { artifact: 'agent-artifacts/files/earlier.pdf', pages: 1 },
    });

    expect(await intake().accept({ blob: 'private/secret.png' }, CLAUDE_FILE_LIMITS)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('"private", which file references may not use') as unknown,
    });
    expect(await intake().accept({ blob: 'inbox/missing.png' }, CLAUDE_FILE_LIMITS)).toMatchObject({
      ok: false,
      problem: 'names blob inbox/missing.png, which does not exist',
    });
  });

  it('refuses private targets (SSRF), wrong types and files over the provider limit, naming the problem', async () => {
    // Without the test-only loopback pass, 127.0.0.1 is refused by the guard.
    expect(
      await intake(false).accept(
        { url: `http://files.example.test:${port}/receipt.png` },
        CLAUDE_FILE_LIMITS,
      ),
    ).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^could not be fetched: blocked: .*/) as unknown,
    });
    expect(
      await intake().accept({ url: 'http://internal.example.test/x.png' }, CLAUDE_FILE_LIMITS),
    ).toMatchObject({
      ok: false,
      problem: expect.stringContaining('blocked') as unknown,
    });
    expect(
      await intake().accept({ url: `http://files.example.test:${port}/page.html` }, CLAUDE_FILE_LIMITS),
    ).toMatchObject({
      ok: false,
      problem: expect.stringContaining('is not a PNG, JPEG, GIF, WebP or PDF file') as unknown,
    });
    expect(
      await intake().accept({ data: pdf.toString('base64'), mediaType: 'image/png' }, CLAUDE_FILE_LIMITS),
    ).toMatchObject({
      ok: false,
      problem: 'declares image/png but its bytes are application/pdf',
    });
    expect(
      await intake().accept(
        { data: pdf.toString('base64'), mediaType: 'application/pdf' },
        CLAUDE_FILE_LIMITS,
        {
          mediaTypes: ['image/png'],
        },
      ),
    ).toMatchObject({ ok: false, problem: 'is application/pdf; this input takes image/png' });
    const big = pngBytes({ width: 8001, height: 1 });
    expect(
      await intake().accept({ data: big.toString('base64'), mediaType: 'image/png' }, CLAUDE_FILE_LIMITS),
    ).toMatchObject({
      ok: false,
      problem: expect.stringContaining('rejects images over 8000 px') as unknown,
    });
    expect(
      (await intake().accept({ data: big.toString('base64'), mediaType: 'image/png' }, OPENAI_FILE_LIMITS))
        .ok,
    ).toBe(true);
    expect(
      await intake().accept({ data: 'not base64!', mediaType: 'image/png' }, CLAUDE_FILE_LIMITS),
    ).toMatchObject({
      ok: false,
      problem: expect.stringContaining('must be a file reference') as unknown,
    });
  });
});
