/** JSON Schema (draft 2020-12) handling for workflow input and step output schemas, via ajv. */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { FILE_MEDIA_TYPES, FileReference } from '../shared/fileTypes.js';
import type { PathSegment } from './errors.js';

/**
 * `"x-file": true` (or `{ "mediaTypes": [...] }`) marks an input property as a file reference (one of
 * `{ url }`, `{ blob }`, `{ data, mediaType }`, `{ artifact }`; src/shared/fileTypes.ts). The starter then
 * fetches, checks and stores the file (src/files/intake.ts) before the run starts.
 */
export const FILE_KEYWORD = 'x-file';

function addFileKeyword(ajv: Ajv2020): void {
  const validate = (_schema: unknown, data: unknown): boolean => {
    if (FileReference.safeParse(data).success) return true;
    validate.errors = [
      {
        keyword: FILE_KEYWORD,
        message:
          'must be a file reference: { "url" }, { "blob": "<container>/<path>" }, { "data" (base64), "mediaType" } or { "artifact" }',
        params: {},
      },
    ];
    return false;
  };
  validate.errors = [] as { keyword: string; message: string; params: object }[];
  ajv.addKeyword({
    keyword: FILE_KEYWORD,
    metaSchema: {
      anyOf: [
        { const: true },
        {
          type: 'object',
          additionalProperties: false,
          properties: { mediaTypes: { type: 'array', minItems: 1, items: { enum: [...FILE_MEDIA_TYPES] } } },
        },
      ],
    },
    validate,
    errors: true,
  });
}

export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    // Unknown keywords (a typo such as "tpye") are errors; type/required combinations that ajv
    // merely finds suspicious are legal JSON Schema and stay allowed.
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    useDefaults: true,
    logger: false,
  });
  addFormats(ajv);
  addFileKeyword(ajv);
  return ajv;
}

const schemaChecker = createAjv();

export interface SchemaProblem {
  /** Path inside the schema. */
  readonly path: readonly PathSegment[];
  readonly message: string;
}

function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/**
 * Problems with `schema` as a JSON Schema: meta-schema violations with their path, then anything
 * ajv rejects when compiling (unknown keywords, bad `$ref`s, unknown formats).
 */
export function checkJsonSchema(
  schema: unknown,
  { requireObjectRoot }: { requireObjectRoot: boolean },
): SchemaProblem[] {
  if (!schemaChecker.validateSchema(schema as object)) {
    // The meta-schema reports one mistake several times (each anyOf branch, then the anyOf itself):
    // keep the first, most specific error per location.
    const firstPerPath = new Map<string, SchemaProblem>();
    for (const error of schemaChecker.errors ?? []) {
      if (firstPerPath.has(error.instancePath)) continue;
      const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
      const message = allowed
        ? `must be one of ${allowed.map(String).join(', ')}`
        : (error.message ?? 'is invalid');
      firstPerPath.set(error.instancePath, {
        path: pointerToPath(error.instancePath),
        message: `invalid JSON Schema: ${message}`,
      });
    }
    return [...firstPerPath.values()];
  }
  try {
    schemaChecker.compile(schema as object);
  } catch (error) {
    return [{ path: [], message: `invalid JSON Schema: ${(error as Error).message}` }];
  } finally {
    schemaChecker.removeSchema(schema as object);
  }
  if (requireObjectRoot && (schema as { type?: unknown }).type !== 'object') {
    return [{ path: [], message: 'the schema must describe an object (type: object at the top)' }];
  }
  return [];
}
