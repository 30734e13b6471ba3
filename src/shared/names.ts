/** Every registered function, event and route name. Orchestrators import names from here, never handlers. */
export const Names = {
  orchestrators: {
    documentDigest: 'documentDigestOrchestrator',
    runWorkflow: 'runWorkflow',
    agentLoop: 'agentLoop',
  },
  activities: {
    callModel: 'callModel',
    saveArtifact: 'saveArtifact',
    summarizeParagraph: 'summarizeParagraph',
    composeDigest: 'composeDigest',
  },
  http: {
    startWorkflow: 'startWorkflow',
    getRun: 'getRun',
  },
  events: {
    approval: 'approval',
  },
} as const;

/** Public workflow names, as they appear in `POST /api/workflows/{name}`. */
export const WorkflowNames = {
  documentDigest: 'document-digest',
} as const;

/** Each tool is one activity, named after the tool so any registered tool can join an allow-list. */
export function toolActivityName(toolName: string): string {
  return `tool_${toolName}`;
}
