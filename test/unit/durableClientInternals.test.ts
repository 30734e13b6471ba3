/**
 * Pins the durable-functions internals src/functions/durableClientTransport.ts depends on. The transport
 * replaces a DurableClient's undocumented `axiosInstance` field, so it must mirror exactly what the
 * library calls on it and reads from the answers. Reading the installed library's source, this fails
 * when an upgrade calls another method, passes another request option, or reads another answer field,
 * before any behaviour changes unnoticed. Source: node_modules/durable-functions/lib/src/durableClient/
 * DurableClient.js (3.5.0).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(__filename);
const libraryRoot = path.dirname(require.resolve('durable-functions/package.json'));
const source = readFileSync(path.join(libraryRoot, 'lib/src/durableClient/DurableClient.js'), 'utf8');
const rootPackage = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

describe('durable-functions internals the durable client transport relies on', () => {
  it('is the exact version the app pins', () => {
    const installed = (require('durable-functions/package.json') as { version: string }).version;
    expect(rootPackage.dependencies['durable-functions']).toBe(installed);
    expect(installed).toBe('3.5.0');
  });

  it('builds its axios instance with the behaviour the transport reproduces', () => {
    const create = /this\.axiosInstance = axios_1\.default\.create\(\{([\s\S]*?)\n {8}\}\);/.exec(source);
    expect(create, 'the axiosInstance field is assigned from axios.create').not.toBeNull();
    const options = create![1]!.replace(/\s+/g, ' ').trim();
    expect(options).toBe(
      'validateStatus: (status) => status < 600, headers: { post: { "Content-Type": "application/json", }, }, maxContentLength: Infinity,',
    );
  });

  it('calls only get, post and delete, with at most a headers option', () => {
    const calls = [...source.matchAll(/this\.axiosInstance\.(\w+)\(([^)]*)\)/g)];
    expect(calls.length).toBeGreaterThanOrEqual(10);
    expect(new Set(calls.map((call) => call[1]))).toEqual(new Set(['get', 'post', 'delete']));
    const configs = new Set(calls.flatMap((call) => call[2]!.split(',').slice(call[1] === 'post' ? 2 : 1)));
    expect([...configs].map((config) => config.trim()).sort()).toEqual(['axiosConfig', '{ headers }']);
    const axiosConfig = /axiosConfig = \{([\s\S]*?)\n {16}\};/.exec(source);
    expect(axiosConfig?.[1]?.replace(/\s+/g, ' ').trim()).toBe(
      'headers: { "x-ms-continuation-token": continuationToken, },',
    );
  });

  it('reads only the status, data and headers of an answer', () => {
    const fields = new Set(
      [...source.matchAll(/\b(?:response|httpResponse)\.(\w+)/g)].map((match) => match[1]),
    );
    expect([...fields].sort()).toEqual(['data', 'headers', 'status']);
  });
});
