/**
 * The run's trace context as orchestrators pass it on: copied from the input, never created here
 * (creating a span id would need randomness). See src/telemetry/README.md.
 */
import type { RunWorkflowInput } from '../shared/runTypes.js';
import type { RunTrace } from '../shared/traceTypes.js';

/** The trace a run passes to its activities and children: the starter's, plus the run's id and workflow. */
export function runTraceOf(input: RunWorkflowInput, runId: string): RunTrace | undefined {
  if (input.trace === undefined) return undefined;
  return {
    ...input.trace,
    runId: input.trace.runId ?? runId,
    workflow: input.trace.workflow ?? input.definition.name,
  };
}

/** `{ trace }` to spread into an activity or child input, or nothing when the run is not traced. */
export function traceField(trace: RunTrace | undefined): { trace?: RunTrace } {
  return trace === undefined ? {} : { trace };
}
