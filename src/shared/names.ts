/** Every registered function, event and route name. Orchestrators import names from here, never handlers. */
export const Names = {
  orchestrators: {
    documentDigest: 'documentDigestOrchestrator',
  },
  activities: {
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
