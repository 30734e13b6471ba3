/**
 * Finds the TypeScript tools (`defineTool`, defineTool.ts) in the compiled `custom/` folder beside this
 * module (`dist/src/tools/custom/`, built from `src/tools/custom/`) and offers them as one tool source.
 * Loading is synchronous, like the rest of the app's registration: the Functions host indexes the
 * functions `src/index.ts` registers while it loads.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { isDefinedTool, type DefinedTool } from './defineTool.js';
import type { ToolSource } from './registry.js';

export const CUSTOM_TOOLS_DIRECTORY = path.join(__dirname, 'custom');

/** Compiled modules only: `x.js`, not declarations, source maps or tests. */
const isModule = (file: string) => file.endsWith('.js') && !file.endsWith('.test.js');

/** Every defineTool export of every module in `directory`; a module exporting none is an error. */
export function loadCustomTools(
  directory: string = CUSTOM_TOOLS_DIRECTORY,
  load: (file: string) => unknown = require,
): DefinedTool[] {
  let files: string[];
  try {
    files = readdirSync(directory).filter(isModule).sort();
  } catch {
    return [];
  }
  return files.flatMap((file) => {
    const exported = load(path.join(directory, file));
    const values = typeof exported === 'object' && exported !== null ? Object.values(exported) : [];
    const tools = values.filter(isDefinedTool);
    if (tools.length === 0) {
      throw new Error(
        `${path.join(directory, file)} exports no tool; export the result of defineTool({ name, description, input, handler })`,
      );
    }
    return [...new Set(tools)];
  });
}

export function customToolSource(directory: string = CUSTOM_TOOLS_DIRECTORY): ToolSource {
  return {
    name: `TypeScript tools in ${directory}`,
    tools: loadCustomTools(directory).map((tool) => tool.build()),
  };
}
