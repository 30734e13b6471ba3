/**
 * Counts the text that crosses the orchestrator channel per episode, both as devhost sends it and as the
 * Durable extension would. devhost leaves stored inputs out of the replay payload (history.ts
 * `replayView`) and has the worker drop the inputs of actions it already knows
 * (functions/orchestratorActions.ts); the extension does neither: it serializes the whole history with
 * every event's `Input` into each episode's payload (`OrchestrationTriggerAttributeBindingProvider`
 * `OrchestrationContextToString`, azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/
 * Bindings/), and durable-functions' `OrchestratorState` lists every action since the execution began,
 * inputs included (durable-functions lib/src/orchestrations/OrchestratorState.js, schema V2+). The
 * "extension" figures add back exactly what devhost left out, so benchmarks can print what Azure charges.
 *
 * Counted in UTF-16 code units of the JSON text (JavaScript `length`): the same as UTF-8 bytes for
 * ASCII JSON, fewer for non-ASCII text. Counting is a few additions per episode; nothing is serialized
 * for it.
 */
export interface WireTotals {
  /** Orchestrator episodes run. */
  episodes: number;
  /** Replay payloads as devhost sent them (history without the inputs the SDK ignores). */
  sentChars: number;
  /** Orchestrator answers as devhost received them (known actions' inputs dropped). */
  receivedChars: number;
  /** Replay payloads as the extension would send them: every stored input included. */
  extensionSentChars: number;
  /** Orchestrator answers as the worker would return them to the extension: every action's input included. */
  extensionReceivedChars: number;
}

export function emptyWireTotals(): WireTotals {
  return { episodes: 0, sentChars: 0, receivedChars: 0, extensionSentChars: 0, extensionReceivedChars: 0 };
}

export class WireMeter {
  readonly #totals = emptyWireTotals();

  /** One episode: the payload and answer lengths, and what devhost left out of each. */
  record(sent: number, sentLeftOut: number, received: number, receivedLeftOut: number): void {
    const t = this.#totals;
    t.episodes += 1;
    t.sentChars += sent;
    t.extensionSentChars += sent + sentLeftOut;
    t.receivedChars += received;
    t.extensionReceivedChars += received + receivedLeftOut;
  }

  totals(): WireTotals {
    return { ...this.#totals };
  }
}

/** `,"Input":<text>`: what leaving `Input` out of one event's JSON removes. */
export function inputFieldChars(input: string): number {
  return ',"Input":'.length + JSON.stringify(input).length;
}

/**
 * durable-functions' actions that always carry an `input` property, last (lib/src/actions/: CallActivity,
 * CallActivityWithRetry, CallSubOrchestrator, CallSubOrchestratorWithRetry, ContinueAsNew), even when
 * it is undefined and so absent from the JSON.
 */
const ACTIONS_WITH_INPUT: ReadonlySet<unknown> = new Set([0, 1, 2, 3, 4]);

/**
 * What setting one known action's `input` to `null` (functions/orchestratorActions.ts
 * `dropKnownActionInputs`) removes from the answer's JSON; negative when the input was undefined, since
 * the `null` then adds `,"input":null`. `action` is as the engine parsed it from the answer.
 */
export function droppedActionInputChars(action: { actionType?: unknown; input?: unknown }): number {
  if (!ACTIONS_WITH_INPUT.has(action.actionType)) return 0;
  const text = action.input === undefined ? undefined : JSON.stringify(action.input);
  return text === undefined ? -',"input":null'.length : text.length - 'null'.length;
}
