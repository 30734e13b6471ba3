/** Every registered function, event and route name. Orchestrators import names from here, never handlers. */
export const Names = {
  orchestrators: {
    runWorkflow: 'runWorkflow',
    agentLoop: 'agentLoop',
  },
  activities: {
    callModel: 'callModel',
    saveArtifact: 'saveArtifact',
  },
  http: {
    startWorkflow: 'startWorkflow',
    getRun: 'getRun',
  },
  events: {
    approval: 'approval',
  },
} as const;

/** Each tool is one activity, named after the tool so any registered tool can join an allow-list. */
export function toolActivityName(toolName: string): string {
  return `tool_${toolName}`;
}
