import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';

/**
 * A validator for a committed editor schema (schemas/*.json), strict (unknown keywords fail compilation)
 * but without useDefaults: an editor checks the file as written, and ajv filling one oneOf branch's
 * defaults (maxTurns, as) would break the others.
 */
export function editorValidator(file: string) {
  const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false }).compile(
    schema,
  );
}
