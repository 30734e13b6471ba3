/**
 * The README's map ("What's inside") names every folder under src/ and test/, and every path it names
 * exists, so the map cannot drift from the tree.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const start = readme.indexOf('| folder ', readme.indexOf("## What's inside"));
const map = readme.slice(start, readme.indexOf('\n\n', start));
const rows = map.split('\n').filter((line) => line.startsWith('| `'));
const folderCell = (row: string) => row.split('|')[1] ?? '';
const named = (cells: string[]) =>
  new Set(cells.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)));
const folders = (dir: string) =>
  readdirSync(path.join(root, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

describe("README map (What's inside)", () => {
  it('names every folder under src/', () => {
    const paths = named(rows.map(folderCell));
    expect(folders('src').filter((folder) => !paths.has(`src/${folder}/`))).toEqual([]);
  });

  it('names every folder under test/, in its own row or in the `test/` row', () => {
    const paths = named(rows.map(folderCell));
    const testRow = named(rows.filter((row) => folderCell(row).includes('`test/`')));
    expect(
      folders('test').filter((folder) => !paths.has(`test/${folder}/`) && !testRow.has(`${folder}/`)),
    ).toEqual([]);
  });

  it('names only paths that exist', () => {
    const paths = [...named(rows.map(folderCell))];
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((name) => !existsSync(path.join(root, name)))).toEqual([]);
  });
});
