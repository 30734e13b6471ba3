/** The HTTP tools of `tools/*.yaml` as a tool source for the registry. */
import { loadFailureMessage, type DefinitionError } from '../../definitions/errors.js';
import type { ToolSource } from '../registry.js';
import { createHttpTool, type HttpToolDeps } from './httpTool.js';
import { loadHttpToolDirectory } from './loadHttpTools.js';

export class ToolLoadError extends Error {
  constructor(
    readonly directory: string,
    readonly errors: readonly DefinitionError[],
  ) {
    super(loadFailureMessage('HTTP tool files', directory, errors));
    this.name = new.target.name;
  }
}

export interface HttpToolSourceOptions extends HttpToolDeps {
  /** The folder of tool files; a missing folder holds no tools. */
  readonly directory: string;
}

/** Loads and checks every tool file (throws one ToolLoadError listing every problem), then builds each tool. */
export function httpToolSource(options: HttpToolSourceOptions): ToolSource {
  const { tools, errors } = loadHttpToolDirectory(options.directory, { env: options.env });
  if (errors.length > 0) throw new ToolLoadError(options.directory, errors);
  return {
    name: `HTTP tools in ${options.directory}`,
    tools: tools.map((tool) => createHttpTool(tool, options)),
  };
}
