/**
 * The contract between the Durable HTTP API (clientApi.ts) and the engine (engine.ts).
 * Shapes follow the Durable extension's HTTP API (StatusResponsePayload.cs) so the unchanged
 * durable-functions DurableClient can read them.
 */
export type RuntimeStatus =
  'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Canceled' | 'Terminated' | 'Suspended';

export const RUNTIME_STATUSES: readonly RuntimeStatus[] = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Suspended',
];

export interface InstanceStatus {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  /** Parsed JSON (null when none); omitted from HTTP output when showInput=false. */
  input: unknown;
  customStatus: unknown;
  output: unknown;
  /** ISO-8601 `yyyy-MM-ddTHH:mm:ssZ`. */
  createdTime: string;
  lastUpdatedTime: string;
  /** History events in the extension's JSON shape, when asked for. */
  historyEvents?: Record<string, unknown>[];
}

export interface InstanceFilter {
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  runtimeStatus?: RuntimeStatus[];
  instanceIdPrefix?: string;
}

export interface InstancePageRequest extends InstanceFilter {
  /** Page size; default 100. */
  top?: number;
  /** Opaque token from the previous page. */
  continuationToken?: string;
  showInput?: boolean;
}

export interface InstancePage {
  instances: InstanceStatus[];
  continuationToken?: string;
}

export type CommandOutcome = 'accepted' | 'notFound' | 'gone' | 'badState';

export interface StartRequest {
  orchestratorName: string;
  instanceId?: string;
  /** Parsed JSON input; undefined means none. */
  input?: unknown;
  version?: string;
}

export type StartOutcome =
  | { kind: 'started'; instanceId: string }
  | { kind: 'unknownOrchestrator' }
  /** Same id already exists and is not in a terminal state (Pending/Running/Suspended). */
  | { kind: 'conflict'; instanceId: string; status: RuntimeStatus };

export interface DurableBackend {
  readonly taskHubName: string;
  start(request: StartRequest): StartOutcome;
  /**
   * `start`, committed together with the other writes of the same event-loop turn (group commit,
   * `DurableStore.groupTx`); settles once the instance is durable. For callers that can wait, such as
   * the HTTP API: a burst of starts then costs one commit instead of one each.
   */
  startGrouped?(request: StartRequest): Promise<StartOutcome>;
  getStatus(
    instanceId: string,
    options?: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean },
  ): InstanceStatus | undefined;
  listInstances(request: InstancePageRequest): InstancePage;
  raiseEvent(instanceId: string, eventName: string, data: unknown): CommandOutcome;
  terminate(instanceId: string, reason: string | undefined): CommandOutcome;
  suspend(instanceId: string, reason: string | undefined): CommandOutcome;
  resume(instanceId: string, reason: string | undefined): CommandOutcome;
  /** Only Failed instances can be rewound ('badState' otherwise). */
  rewind(instanceId: string, reason: string | undefined): CommandOutcome;
  /** Restart from the same input; returns the new (or same) instance id. */
  restart(
    instanceId: string,
    restartWithNewInstanceId: boolean,
  ): { kind: 'restarted'; instanceId: string } | { kind: 'notFound' };
  /** Only terminal instances are purged. Returns the number deleted. */
  purge(instanceId: string): number;
  purgeByFilter(filter: InstanceFilter): number;
}
