/**
 * Replays run exports against this build's orchestrators (src/orchestrators/registrations.ts, each
 * wrapped by durable-functions' own `createOrchestrator`, exactly what `df.app.orchestration` registers).
 */
import type { OrchestrationHandler } from 'durable-functions';
import { createOrchestrator } from 'durable-functions/lib/src/util/testingUtils.js';
import { stepOfChild } from '../operator/timeline.js';
import { orchestratorRegistrations } from '../orchestrators/registrations.js';
import { fromApiHistory } from './apiHistory.js';
import type { ExportedInstance, RunExport } from './exportFile.js';
import {
  replayInstance,
  type Divergence,
  type InstanceReplayResult,
  type OrchestratorAnswer,
  type OrchestratorFunction,
  type ReplayInstance,
} from './replayer.js';

export interface RunReplayResult {
  readonly instanceId: string;
  readonly workflow: string | undefined;
  readonly instances: readonly InstanceReplayResult[];
  /** Instances whose history cannot be replayed, with the reason. */
  readonly notReplayable: readonly { instanceId: string; reason: string }[];
  readonly divergence?: Divergence;
}

/** Handlers of the given orchestrator functions, wrapped as the app registers them. */
export function orchestratorsOf(
  handlers: Readonly<Record<string, OrchestrationHandler>> = orchestratorRegistrations,
): (name: string) => OrchestratorFunction | undefined {
  const wrapped = new Map<string, OrchestratorFunction>();
  return (name) => {
    const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
    if (handler === undefined) return undefined;
    let fn = wrapped.get(name);
    if (fn === undefined) {
      fn = createOrchestrator(handler);
      wrapped.set(name, fn);
    }
    return fn;
  };
}

/** The step a runWorkflow answer reports in its custom status, or the step that started a child. */
function stepFinder(runId: string) {
  return (instance: ReplayInstance, answer: OrchestratorAnswer | undefined): string | undefined => {
    const status = answer?.customStatus;
    if (typeof status === 'object' && status !== null && 'step' in status) {
      const step = (status as { step?: unknown }).step;
      if (typeof step === 'string' && instance.instanceId === runId) return step;
    }
    return instance.instanceId === runId ? undefined : stepOfChild(runId, instance.instanceId);
  };
}

function replayable(
  instance: ExportedInstance,
): { ok: true; replay: ReplayInstance } | { ok: false; reason: string } {
  let events;
  if (instance.history.shape === 'orchestration') events = instance.history.events;
  else {
    const converted = fromApiHistory(instance.history.events);
    if (!converted.ok) {
      const shown = converted.missing.slice(0, 5).join('; ');
      const more = converted.missing.length > 5 ? ` (and ${converted.missing.length - 5} more)` : '';
      return {
        ok: false,
        reason:
          `the host's history API left out what replay needs: ${shown}${more}. The Durable extension ` +
          'trims histories this way on Azure (see src/replay/README.md, "Where histories come from").',
      };
    }
    events = converted.events;
  }
  return {
    ok: true,
    replay: {
      instanceId: instance.instanceId,
      name: instance.name,
      parentInstanceId: instance.parentInstanceId,
      input: instance.input,
      history: events,
    },
  };
}

/** Replays every instance of an export, one at a time; stops at the first divergence. */
export async function replayRunExport(
  exported: RunExport,
  orchestrators: (name: string) => OrchestratorFunction | undefined = orchestratorsOf(),
): Promise<RunReplayResult> {
  const results: InstanceReplayResult[] = [];
  const notReplayable: { instanceId: string; reason: string }[] = [];
  const stepOf = stepFinder(exported.run.instanceId);
  for (const instance of exported.instances) {
    const prepared = replayable(instance);
    if (!prepared.ok) {
      notReplayable.push({ instanceId: instance.instanceId, reason: prepared.reason });
      continue;
    }
    const result = await replayInstance(prepared.replay, { orchestrator: orchestrators, stepOf });
    results.push(result);
    if (result.divergence) {
      return {
        instanceId: exported.run.instanceId,
        workflow: exported.workflow?.name,
        instances: results,
        notReplayable,
        divergence: result.divergence,
      };
    }
  }
  return {
    instanceId: exported.run.instanceId,
    workflow: exported.workflow?.name,
    instances: results,
    notReplayable,
  };
}
