/**
 * `npm run schemas`: writes schemas/workflow.schema.json from the zod schemas. With `--check`,
 * exits 1 when the committed file differs from what the generator produces (the unit test
 * test/unit/definitions/workflowJsonSchema.test.ts checks the same).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WORKFLOW_SCHEMA_PATH, workflowSchemaText } from './lib/workflowSchema.js';

async function main(): Promise<number> {
  const root = process.cwd();
  const file = join(root, WORKFLOW_SCHEMA_PATH);
  const text = await workflowSchemaText(root);
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      // A missing file is stale too.
    }
    if (committed === text) {
      console.log(`${WORKFLOW_SCHEMA_PATH} is up to date`);
      return 0;
    }
    console.error(`${WORKFLOW_SCHEMA_PATH} is stale: run npm run schemas and commit the result`);
    return 1;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${WORKFLOW_SCHEMA_PATH}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
