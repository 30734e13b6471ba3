import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDefinitionError } from '../../../../src/definitions/errors.js';
import { loadHttpToolDirectory, parseHttpTool } from '../../../../src/tools/http/loadHttpTools.js';
import { httpToolSource, ToolLoadError } from '../../../../src/tools/http/httpToolSource.js';
import { toolsDirectory } from '../../../../src/startup.js';

const GOOD = `# yaml-language-server: $schema=../schemas/tool.schema.json
name: crm_lookup
description: Find a customer by email address.
input:
  type: object
  required: [email]
  properties:
    email: { type: string }
url: "https://crm.internal/api/customers?email={{ args.email }}"
headers:
  Accept: application/json
  X-Request-Id: "{{ call.runId }}-{{ call.toolUseId }}"
auth:
  type: key
  setting: CRM_API_KEY
  header: X-Api-Key
extract: response.customers
`;

const messages = (text: string, env: Record<string, string> = { CRM_API_KEY: 'k' }) =>
  parseHttpTool(text, 'tools/crm_lookup.yaml', { env, expectedName: 'crm_lookup' }).errors.map(
    formatDefinitionError,
  );

describe('HTTP tool files', () => {
  it('load with defaults filled in and templates compiled', () => {
    const { tool, errors } = parseHttpTool(GOOD, 'tools/crm_lookup.yaml', { env: { CRM_API_KEY: 'k' } });
    expect(errors).toEqual([]);
    expect(tool?.definition).toMatchObject({
      name: 'crm_lookup',
      method: 'GET',
      limits: { timeoutMs: 10_000, maxResponseBytes: 1_048_576, maxOutputBytes: 16_384 },
      auth: { type: 'key', setting: 'CRM_API_KEY', header: 'X-Api-Key', prefix: '' },
    });
    expect(tool?.headers.map(([name]) => name)).toEqual(['Accept', 'X-Request-Id']);
    expect(tool?.extract?.source).toBe('response.customers');
  });

  it('report every problem with file, line and column', () => {
    const broken = `name: crm
description: Find a customer.
input: { type: array }
method: GET
url: "http://{{ args.host }}/api"
headers:
  Content-Length: "12"
  X-Api-Key: x
  X-Trace: "{{ input.trace }}"
body: { q: "{{ args.q }}" }
auth: { type: key, setting: CRM_API_KEY, header: X-Api-Key }
extract: "response.items["
timeout: 5
`;
    expect(messages(broken, {})).toEqual([
      'tools/crm_lookup.yaml:13:1 timeout: unknown key "timeout" (allowed: name, description, input, method, url, headers, body, auth, limits, extract)',
    ]);
    const fixedKeys = broken.replace('timeout: 5\n', '');
    expect(messages(fixedKeys, {})).toEqual([
      'tools/crm_lookup.yaml:1:7 name: name "crm" does not match the file name (expected "crm_lookup")',
      'tools/crm_lookup.yaml:3:8 input: input must be a JSON Schema with type: object at the top (tool arguments are an object)',
      'tools/crm_lookup.yaml:5:6 url: url must start with a literal http:// or https:// origin followed by "/", "?" or "#" before any {{ }}, so arguments can never choose the host',
      'tools/crm_lookup.yaml:7:3 headers["Content-Length"]: the HTTP client sets Content-Length itself',
      'tools/crm_lookup.yaml:8:3 headers["X-Api-Key"]: X-Api-Key is set by auth; remove it here',
      'tools/crm_lookup.yaml:9:16 headers["X-Trace"]: unknown variable "input" (available: args, call)',
      'tools/crm_lookup.yaml:10:1 body: a GET request has no body; use POST, PUT or PATCH',
      'tools/crm_lookup.yaml:12:10 extract: invalid expression "response.items[": Unexpected token: EOF',
      'tools/crm_lookup.yaml:11:29 auth.setting: the app setting CRM_API_KEY is not set (it holds the key this tool sends)',
    ]);
  });

  it('name a missing key, a bad auth type and an invalid input schema', () => {
    const text = `name: crm_lookup
input: { type: object, properties: { a: { type: strng } } }
url: https://crm.internal/x
auth: { type: basic }
`;
    expect(messages(text)).toEqual([
      'tools/crm_lookup.yaml:1:1 missing required key "description"',
      'tools/crm_lookup.yaml:4:15 auth.type: auth.type must be managed-identity or key',
    ]);
    const schema = messages(text.replace('auth: { type: basic }\n', 'description: d\n'));
    expect(schema).toHaveLength(1);
    expect(schema[0]).toMatch(/^tools\/crm_lookup\.yaml:2:8 input: input is not a valid JSON Schema: /);
  });

  it('stop the app listing every file’s problems, and a missing folder holds no tools', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'http-tools-'));
    try {
      writeFileSync(path.join(dir, 'crm_lookup.yaml'), GOOD);
      writeFileSync(path.join(dir, 'broken.yaml'), 'name: [oops');
      const options = { env: {}, tokenFor: () => Promise.resolve('t') };
      const error = (() => {
        try {
          httpToolSource({ ...options, directory: dir });
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ToolLoadError);
      expect((error as ToolLoadError).errors).toHaveLength(2);
      expect((error as Error).message).toContain(
        'have 2 errors; the app will not start until they are fixed',
      );
      expect((error as Error).message).toMatch(/broken\.yaml:1:\d+ YAML syntax/);
      expect((error as Error).message).toContain('CRM_API_KEY is not set');
      expect(loadHttpToolDirectory(path.join(dir, 'absent'))).toEqual({ tools: [], errors: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('live in tools/ beside the workflows folder, or in TOOLS_DIR, which must exist', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tools-dir-'));
    try {
      expect(toolsDirectory(undefined, path.join(root, 'flows'), root)).toBe(path.join(root, 'tools'));
      expect(toolsDirectory('.', path.join(root, 'flows'), root)).toBe(root);
      expect(() => toolsDirectory('missing', path.join(root, 'flows'), root)).toThrow(
        `No tools folder at ${path.join(root, 'missing')}; create it or point TOOLS_DIR at one.`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
