/** Talks to a running devhost the way a business system would: HTTP only. */
export interface CheckStatusPayload {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  rewindPostUri: string;
  purgeHistoryDeleteUri: string;
  suspendPostUri: string;
  resumePostUri: string;
  restartPostUri?: string;
}

export interface OrchestrationStatus {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: { EventType: string | number }[];
}

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

export class HostClient {
  constructor(
    readonly baseUrl: string,
    readonly functionKey: string,
  ) {}

  async start(orchestrator: string, input?: unknown, instanceId?: string): Promise<CheckStatusPayload> {
    const url = `${this.baseUrl}/api/orchestrators/${orchestrator}${instanceId ? `/${instanceId}` : ''}`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'x-functions-key': this.functionKey, 'content-type': 'application/json' },
      body: input === undefined ? '' : JSON.stringify(input),
    });
    if (response.status !== 202)
      throw new Error(`start ${orchestrator}: ${response.status} ${await response.text()}`);
    return (await response.json()) as CheckStatusPayload;
  }

  /** `undefined` while the instance does not exist yet (e.g. a queue message not yet picked up). */
  async statusIfExists(payload: CheckStatusPayload): Promise<OrchestrationStatus | undefined> {
    const response = await fetch(payload.statusQueryGetUri);
    if (response.status === 404) return undefined;
    return (await response.json()) as OrchestrationStatus;
  }

  async status(payload: CheckStatusPayload, query = ''): Promise<OrchestrationStatus> {
    const response = await fetch(`${payload.statusQueryGetUri}${query}`);
    if (response.status >= 300 && response.status !== 202) {
      throw new Error(`status ${payload.id}: ${response.status} ${await response.text()}`);
    }
    return (await response.json()) as OrchestrationStatus;
  }

  /** Polls until the instance reaches a terminal state (or `until` holds). */
  async waitFor(
    payload: CheckStatusPayload,
    until: (s: OrchestrationStatus) => boolean = (s) => TERMINAL.has(s.runtimeStatus),
    timeoutMs = 20_000,
  ): Promise<OrchestrationStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status(payload);
      if (until(status)) return status;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${payload.id}: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async run(orchestrator: string, input?: unknown, instanceId?: string): Promise<OrchestrationStatus> {
    return this.waitFor(await this.start(orchestrator, input, instanceId));
  }

  async post(
    templateUrl: string,
    replacements: Record<string, string> = {},
    body?: unknown,
  ): Promise<Response> {
    let url = templateUrl;
    for (const [key, value] of Object.entries(replacements))
      url = url.replace(`{${key}}`, encodeURIComponent(value));
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  raiseEvent(payload: CheckStatusPayload, eventName: string, data: unknown): Promise<Response> {
    return this.post(payload.sendEventPostUri, { eventName }, data);
  }
}
