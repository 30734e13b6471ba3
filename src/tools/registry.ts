/** The tools this app offers agent steps: one activity per tool, named `toolActivityName(name)`. */
import type { ArtifactActivities } from '../activities/artifacts.js';
import { ToolDefinition } from '../shared/modelTypes.js';
import { toolActivityName } from '../shared/names.js';
import type { ToolCallResult, ToolSpec } from '../shared/toolTypes.js';

/** What each tool module's factory returns. */
export interface Tool {
  readonly spec: ToolSpec;
  readonly handler: (input: unknown) => Promise<ToolCallResult>;
}

export interface ToolRegistration {
  /** `tool_<name>`: the activity the agent loop calls. */
  readonly activityName: string;
  readonly handler: (input: unknown) => Promise<ToolCallResult>;
}

export interface ToolRegistry {
  names(): string[];
  /** Name → definition as the model sees it; goes into every run's input. */
  toolSpecs(): Record<string, ToolDefinition>;
  registrations(): ToolRegistration[];
}

export interface ToolRegistryDeps {
  readonly artifacts: ArtifactActivities;
}

/** A registry over already-built tools; names must be unique and valid for every provider. */
export function toolRegistryOf(tools: readonly Tool[]): ToolRegistry {
  const byName = new Map<string, Tool>();
  for (const tool of tools) {
    if (byName.has(tool.spec.name)) throw new Error(`Two tools are named "${tool.spec.name}"`);
    ToolDefinition.parse(tool.spec);
    byName.set(tool.spec.name, tool);
  }
  const names = [...byName.keys()].sort();
  return {
    names: () => [...names],
    toolSpecs: () =>
      Object.fromEntries(
        names.map((name) => {
          const { spec } = byName.get(name) as Tool;
          return [name, { name: spec.name, description: spec.description, inputSchema: spec.inputSchema }];
        }),
      ),
    registrations: () =>
      names.map((name) => ({ activityName: toolActivityName(name), handler: (byName.get(name) as Tool).handler })),
  };
}

/** The app's tools with their dependencies; adding a tool is one line here. */
export function createToolRegistry(_deps: ToolRegistryDeps): ToolRegistry {
  return toolRegistryOf([]);
}
