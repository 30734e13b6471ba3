/**
 * Loads `tools/*.yaml`: HTTP tools an operator declares beside the workflows. Every problem in every file
 * is reported with file, line and column, as workflow files are (src/definitions/errors.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, isAbsolute, join, relative } from 'node:path';
import { formatPath, type DefinitionError, type PathSegment } from '../../definitions/errors.js';
import type { CompiledTemplate } from '../../definitions/expressions.js';
import { createAjv } from '../../definitions/jsonSchema.js';
import type { Located } from '../../definitions/sourceMap.js';
import { isRecord, parseYamlSource, valueAt } from '../../definitions/yamlSource.js';
import { HEADER_NAME, HTTP_TOOL_KEYS, HttpToolDefinition } from './schema.js';
import { compileChecked, EXTRACT_VARIABLES, literalOrigin, REQUEST_VARIABLES } from './templates.js';

/** A checked tool file, templates compiled. */
export interface LoadedHttpTool {
  readonly file: string;
  readonly definition: HttpToolDefinition;
  readonly url: CompiledTemplate;
  readonly headers: readonly (readonly [string, CompiledTemplate])[];
  readonly extract?: CompiledTemplate;
}

export interface HttpToolSet {
  readonly tools: readonly LoadedHttpTool[];
  readonly errors: readonly DefinitionError[];
}

export interface HttpToolLoadOptions {
  /** The app settings: a `key` auth's setting must be set. Without it (`npm run validate`) it is not checked. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Headers the HTTP client writes itself; a tool file cannot set them. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
const NO_BODY_METHODS = new Set(['GET', 'DELETE']);

function allowedKeys(path: readonly PathSegment[]): readonly string[] | undefined {
  if (path.length === 0) return HTTP_TOOL_KEYS.tool;
  if (path.length === 1 && path[0] === 'limits') return HTTP_TOOL_KEYS.limits;
  return undefined;
}

/** Parses and checks one tool file. Pure: the caller reads the file. */
export function parseHttpTool(
  text: string,
  file: string,
  options: HttpToolLoadOptions & { readonly expectedName?: string } = {},
): { tool?: LoadedHttpTool; errors: DefinitionError[] } {
  const source = parseYamlSource(text, file);
  if (!source.ok) return { errors: source.errors };
  const { raw, sourceMap } = source;
  const errors: DefinitionError[] = [];
  const add = (located: Located & { message: string }) => {
    const { line, column } = sourceMap.locate(located);
    errors.push({ file, line, column, path: formatPath(located.path), message: located.message });
  };
  if (!isRecord(raw)) {
    add({ path: [], message: 'a tool file must be a YAML mapping (name:, description:, input:, url: …)' });
    return { errors };
  }
  const parsed = HttpToolDefinition.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
      if (issue.code === 'unrecognized_keys') {
        const allowed = allowedKeys(path);
        for (const key of issue.keys) {
          const hint = allowed ? ` (allowed: ${allowed.join(', ')})` : '';
          add({ path: [...path, key], at: 'key', message: `unknown key "${key}"${hint}` });
        }
      } else if (issue.code === 'invalid_type' && valueAt(raw, path) === undefined) {
        add({ path: path.slice(0, -1), message: `missing required key "${String(path.at(-1))}"` });
      } else {
        add({ path, message: issue.message });
      }
    }
    return { errors };
  }
  const definition = parsed.data;
  if (options.expectedName !== undefined && definition.name !== options.expectedName) {
    add({
      path: ['name'],
      message: `name "${definition.name}" does not match the file name (expected "${options.expectedName}")`,
    });
  }
  checkInputSchema(definition.input, (message) => add({ path: ['input'], message }));

  const url = compileChecked(definition.url, REQUEST_VARIABLES);
  if ('problem' in url)
    add({ path: ['url'], offsetInValue: url.problem.offset, message: url.problem.message });
  else if (literalOrigin(url.template) === undefined) {
    add({
      path: ['url'],
      message:
        'url must start with a literal http:// or https:// origin followed by "/", "?" or "#" before any ' +
        '{{ }}, so arguments can never choose the host',
    });
  } else if (url.template.parts.length === 1 && !URL.canParse(definition.url)) {
    add({ path: ['url'], message: 'url is not a valid URL' });
  }

  const authHeader =
    definition.auth?.type === 'key'
      ? definition.auth.header.toLowerCase()
      : definition.auth
        ? 'authorization'
        : undefined;
  const headers: (readonly [string, CompiledTemplate])[] = [];
  for (const [name, value] of Object.entries(definition.headers)) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name))
      add({ path: ['headers', name], at: 'key', message: `"${name}" is not a header name` });
    else if (RESERVED_HEADERS.has(lower))
      add({ path: ['headers', name], at: 'key', message: `the HTTP client sets ${name} itself` });
    else if (lower === authHeader)
      add({ path: ['headers', name], at: 'key', message: `${name} is set by auth; remove it here` });
    const compiled = compileChecked(value, REQUEST_VARIABLES);
    if ('problem' in compiled) {
      add({
        path: ['headers', name],
        offsetInValue: compiled.problem.offset,
        message: compiled.problem.message,
      });
    } else headers.push([name, compiled.template]);
  }

  if (definition.body !== undefined) {
    if (NO_BODY_METHODS.has(definition.method)) {
      add({
        path: ['body'],
        at: 'key',
        message: `a ${definition.method} request has no body; use POST, PUT or PATCH`,
      });
    }
    checkBody(definition.body, ['body'], add);
  }

  let extract: CompiledTemplate | undefined;
  if (definition.extract !== undefined) {
    const compiled = compileChecked(definition.extract, EXTRACT_VARIABLES, true);
    if ('problem' in compiled) {
      add({ path: ['extract'], offsetInValue: compiled.problem.offset, message: compiled.problem.message });
    } else extract = compiled.template;
  }

  if (definition.auth?.type === 'key' && options.env !== undefined) {
    const value = options.env[definition.auth.setting]?.trim();
    if (!value) {
      add({
        path: ['auth', 'setting'],
        message: `the app setting ${definition.auth.setting} is not set (it holds the key this tool sends)`,
      });
    }
  }
  if (errors.length > 0 || 'problem' in url) return { errors };
  return {
    tool: { file, definition, url: url.template, headers, ...(extract ? { extract } : {}) },
    errors,
  };
}

function checkInputSchema(schema: Record<string, unknown>, problem: (message: string) => void): void {
  if (schema.type !== 'object') {
    problem('input must be a JSON Schema with type: object at the top (tool arguments are an object)');
    return;
  }
  try {
    createAjv().compile(schema);
  } catch (error) {
    problem(`input is not a valid JSON Schema: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
}

function checkBody(
  value: unknown,
  path: PathSegment[],
  add: (located: Located & { message: string }) => void,
): void {
  if (typeof value === 'string') {
    const compiled = compileChecked(value, REQUEST_VARIABLES);
    if ('problem' in compiled)
      add({ path, offsetInValue: compiled.problem.offset, message: compiled.problem.message });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => checkBody(item, [...path, index], add));
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) checkBody(item, [...path, key], add);
  }
}

/** Paths under the working directory are shown relative to it, as editors and CI logs expect. */
function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown.startsWith('..') || isAbsolute(shown) ? path : shown;
}

/** Every `*.yaml` / `*.yml` in `dir`; a missing folder holds no tools. */
export function loadHttpToolDirectory(dir: string, options: HttpToolLoadOptions = {}): HttpToolSet {
  if (!existsSync(dir)) return { tools: [], errors: [] };
  const tools: LoadedHttpTool[] = [];
  const errors: DefinitionError[] = [];
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && ['.yaml', '.yml'].includes(extname(entry.name)))
    .map((entry) => entry.name)
    .sort();
  for (const fileName of names) {
    const path = join(dir, fileName);
    const result = parseHttpTool(readFileSync(path, 'utf8'), displayPath(path), {
      ...options,
      expectedName: basename(fileName, extname(fileName)),
    });
    errors.push(...result.errors);
    if (result.tool) tools.push(result.tool);
  }
  return { tools, errors };
}
