/**
 * Every orchestrator the app registers, by name: src/index.ts registers these with
 * `df.app.orchestration`, and the replayer (src/replay/) drives the same functions, so the two never
 * disagree on what runs under a name.
 */
import type { OrchestrationHandler } from 'durable-functions';
import { Names } from '../shared/names.js';
import { agentLoopOrchestrator } from './agentLoop.js';
import { runBatchLaneOrchestrator } from './batchJobLane.js';
import { runBatchOrchestrator } from './batchJob.js';
import { runCallbackOrchestrator } from './completionCallback.js';
import { runWorkflowOrchestrator } from './runWorkflow.js';

export const orchestratorRegistrations: Readonly<Record<string, OrchestrationHandler>> = {
  [Names.orchestrators.runWorkflow]: runWorkflowOrchestrator,
  [Names.orchestrators.agentLoop]: agentLoopOrchestrator,
  [Names.orchestrators.runBatch]: runBatchOrchestrator,
  [Names.orchestrators.runBatchLane]: runBatchLaneOrchestrator,
  [Names.orchestrators.runCallback]: runCallbackOrchestrator,
};
