/**
 * `durable-agents/testing`: test your own workflows offline on the local host, with the app's real
 * orchestrators and activities, a scripted model, scripted tools and a clock you can fast-forward.
 * Guide and example: docs/testing.md.
 */
export {
  startWorkflowHarness,
  type ApprovalWait,
  type RunResult,
  type WorkflowHarness,
  type WorkflowHarnessOptions,
  type WorkflowRun,
} from './harness.js';
export {
  afterToolResults,
  toolResultCount,
  type ModelCall,
  type ModelFaultScript,
  type ModelStepScript,
} from './modelScript.js';
export {
  delayed,
  errorResponse,
  malformedResponse,
  offlineResponse,
  rawResponse,
  structuredResponse,
  textResponse,
  toolUseResponse,
  type Fault,
  type ModelReply,
  type RecordedModelRequest,
  type RequestMatcher,
  type RequestPattern,
  type ScriptedModel,
} from './scriptedModel.js';
export { TestClock } from './testClock.js';
export {
  toolError,
  type RecordedToolCall,
  type ToolCall,
  type ToolErrorAnswer,
  type ToolScript,
} from './toolScript.js';
export type { RunReplayResult } from '../replay/replayRun.js';
export type { LedgerRow } from '../shared/runTypes.js';
export type { TimelineEntry } from '../shared/operatorTypes.js';
