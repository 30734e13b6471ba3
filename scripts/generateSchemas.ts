/**
 * `npm run schemas`: writes schemas/workflow.schema.json and schemas/tool.schema.json from the zod
 * schemas. With `--check`, exits 1 when a committed file differs from what the generator produces (the
 * unit tests test/unit/definitions/workflowJsonSchema.test.ts and test/unit/tools/http/toolJsonSchema.test.ts
 * check the same).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TOOL_SCHEMA_PATH, toolSchemaText } from './lib/toolSchema.js';
import { WORKFLOW_SCHEMA_PATH, workflowSchemaText } from './lib/workflowSchema.js';

const SCHEMAS: readonly [string, (root: string) => Promise<string>][] = [
  [WORKFLOW_SCHEMA_PATH, workflowSchemaText],
  [TOOL_SCHEMA_PATH, toolSchemaText],
];

async function main(): Promise<number> {
  const root = process.cwd();
  let code = 0;
  for (const [relative, generate] of SCHEMAS) {
    const file = join(root, relative);
    const text = await generate(root);
    if (process.argv.includes('--check')) {
      let committed = '';
      try {
        committed = readFileSync(file, 'utf8');
      } catch {
        // A missing file is stale too.
      }
      if (committed === text) console.log(`${relative} is up to date`);
      else {
        console.error(`${relative} is stale: run npm run schemas and commit the result`);
        code = 1;
      }
      continue;
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    console.log(`wrote ${relative}`);
  }
  return code;
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
