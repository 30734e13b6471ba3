import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pack } from './lib/pack.js';

const root = resolve(__dirname, '../..');
const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist/durable-agents.zip' } } });
const out = resolve(root, values.out);

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

const result = pack({ root, out, log: (line) => console.log(`  ${line}`) });
const byArea = new Map<string, number>();
for (const file of result.files) {
  const area = file.startsWith('node_modules/') ? 'node_modules' : file.split('/').slice(0, 2).join('/');
  byArea.set(area, (byArea.get(area) ?? 0) + 1);
}
console.log(`Packed ${result.entries} files into ${relative(process.cwd(), out) || out}`);
for (const [area, count] of [...byArea].sort()) console.log(`  ${String(count).padStart(6)}  ${area}`);
console.log(`Size: ${mb(result.bytes)} (${mb(result.uncompressedBytes)} uncompressed)`);
if (result.skippedSymlinks > 0)
  console.log(`Skipped ${result.skippedSymlinks} symlinks (such as node_modules/.bin).`);
