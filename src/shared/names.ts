/** Every registered function, event and route name. Orchestrators import names from here, never handlers. */
export const Names = {
  orchestrators: {
    runWorkflow: 'runWorkflow',
    agentLoop: 'agentLoop',
    runBatch: 'runBatch',
    runBatchLane: 'runBatchLane',
    runCallback: 'runCallback',
  },
  activities: {
    callModel: 'callModel',
    submitModelBatch: 'submitModelBatch',
    pollModelBatch: 'pollModelBatch',
    collectModelBatchResults: 'collectModelBatchResults',
    cancelModelBatch: 'cancelModelBatch',
    saveArtifact: 'saveArtifact',
    appendTranscript: 'appendTranscript',
    prepareCompaction: 'prepareCompaction',
    finishCompaction: 'finishCompaction',
    sendCallback: 'sendCallback',
    startCallback: 'startCallback',
    readRunForCallback: 'readRunForCallback',
    countBatchItems: 'countBatchItems',
    readBatchItems: 'readBatchItems',
    writeBatchResults: 'writeBatchResults',
    finishBatch: 'finishBatch',
  },
  http: {
    startWorkflow: 'startWorkflow',
    getRun: 'getRun',
    runAction: 'runAction',
    openApi: 'openApi',
    dashboard: 'dashboard',
    dashboardAsset: 'dashboardAsset',
    operatorListRuns: 'operatorListRuns',
    operatorGetRun: 'operatorGetRun',
    operatorRunAction: 'operatorRunAction',
    operatorPurge: 'operatorPurge',
    operatorExportRun: 'operatorExportRun',
    operatorGetCall: 'operatorGetCall',
    operatorListWorkflows: 'operatorListWorkflows',
    mcp: 'mcp',
  },
  queues: {
    workflowRequests: 'workflowRequests',
  },
  events: {
    approval: 'approval',
  },
} as const;

/**
 * Each tool is one activity, named after the tool so any registered tool can join an allow-list. MCP tools
 * (`<server>__<tool>`, listed from the server at startup, src/tools/mcp/) share one activity per server,
 * since Functions are registered before the servers answer; `__` is reserved for them.
 */
export function toolActivityName(toolName: string): string {
  const server = toolName.indexOf('__');
  return server > 0 ? mcpActivityName(toolName.slice(0, server)) : `tool_${toolName}`;
}

/** The activity that calls the tools of MCP server `server`. */
export function mcpActivityName(server: string): string {
  return `mcp_${server}`;
}

/** The instance id of a run's completion callback orchestration. */
export function callbackInstanceId(runId: string): string {
  return `${runId}:callback`;
}
