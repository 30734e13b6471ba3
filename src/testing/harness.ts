/**
 * `durable-agents/testing`: runs workflow files in-process on the local host (devhost/) with this app's
 * real functions, orchestrators and activities, against a scripted model on loopback and scripted tools.
 * See docs/testing.md.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';
import { startDevHost, type DevHost, type LogLevel } from '../../devhost/host.js';
import type { DurableEngine } from '../../devhost/durable/engine.js';
import { freeLoopbackPorts } from '../../devhost/net.js';
import { startAzurite, type AzuriteProcess } from '../../devhost/storage/azurite.js';
import { exportRunFromStore } from '../../scripts/lib/storeExport.js';
import type { RunView } from '../functions/runView.js';
import { replayRunExport, type RunReplayResult } from '../replay/replayRun.js';
import { describeDivergence } from '../replay/replayer.js';
import { Names } from '../shared/names.js';
import type { RunDetail, TimelineEntry } from '../shared/operatorTypes.js';
import type { LedgerRow } from '../shared/runTypes.js';
import {
  ModelCallInput,
  ModelCallTracker,
  type ModelFaultScript,
  type ModelStepScript,
} from './modelScript.js';
import { startScriptedModel, type ScriptedModel } from './scriptedModel.js';
import { TestClock } from './testClock.js';
import { answerToolCall, type RecordedToolCall, type ToolScript } from './toolScript.js';

export interface WorkflowHarnessOptions {
  /** Workflow files (`.yaml`/`.yml`) or folders of them: the app loads exactly these. */
  readonly workflows: string | readonly string[];
  /** Answers for the model, by step and role; unmatched requests fail the run and `assertDone()`. */
  readonly model?: {
    readonly steps?: readonly ModelStepScript[];
    readonly faults?: readonly ModelFaultScript[];
    /** Take answers strictly in script order (default false: the first pending answer that matches). */
    readonly ordered?: boolean;
  };
  /** Tool name → scripted answer (see toolScript.ts); tools without one run for real. */
  readonly tools?: Readonly<Record<string, ToolScript>>;
  /** Extra app settings for this host (environment variables, restored on `stop()`). */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * `AzureWebJobsStorage` for queues, blobs and artifacts. Default: the environment's, unless it is
   * `UseDevelopmentStorage=true` or unset; then an in-memory Azurite is started for this harness.
   */
  readonly storage?: string;
  /** Jump to the next durable timer whenever nothing can run (default false; see testClock.ts). */
  readonly autoSkipTimers?: boolean;
  /** The durable-agents app folder (host.json + built `dist/`); default: this package. */
  readonly appDir?: string;
  /** Host and app log lines; default: only errors, to stderr. */
  readonly log?: (level: LogLevel, message: string) => void;
}

/** A finished run, in typed views. */
export interface RunResult {
  readonly id: string;
  /** The Durable runtime status: Completed, Failed, Terminated. */
  readonly status: string;
  /** completed, budget_exceeded, failed, … (null when the orchestration itself crashed). */
  readonly outcome: string | null;
  readonly output: unknown;
  readonly error: RunView['error'];
  /** One row per step, role and deployment, as the run booked them. */
  readonly ledger: readonly LedgerRow[];
  readonly totals: NonNullable<RunView['ledger']>['totals'] | null;
  /** The top-level steps in order, with status, tokens, cost and retries (operator API). */
  readonly timeline: readonly TimelineEntry[];
  /** `GET /api/runs/{id}` as a business caller sees it. */
  readonly raw: RunView;
  /** `GET /api/operator/runs/{id}` as an operator sees it (timeline, waterfall, approvals, children). */
  readonly detail: RunDetail;
}

export interface ApprovalWait {
  readonly event: string;
  readonly until: string;
  readonly message?: string;
}

export interface WorkflowRun {
  readonly id: string;
  /** The run as `GET /api/runs/{id}` answers now. */
  view(): Promise<RunView>;
  /** Waits until the run waits for an approval and returns what it waits for. */
  waitForApproval(options?: { timeoutMs?: number }): Promise<ApprovalWait>;
  /** Approves through `POST /api/runs/{id}/approve`, as a business caller named `by`. */
  approve(options?: { by?: string; comment?: string }): Promise<void>;
  reject(options?: { by?: string; comment?: string }): Promise<void>;
  /** Raises any external event on the run's orchestration. */
  raiseEvent(name: string, data: unknown): Promise<void>;
  /** Waits until the run has finished (completed or not) and returns it. */
  result(options?: { timeoutMs?: number }): Promise<RunResult>;
  /** Replays the run's recorded history against this build's orchestrators (src/replay/). */
  replay(): Promise<RunReplayResult>;
  /** Throws, naming the step and history event, unless `replay()` finds no divergence. */
  assertReplays(): Promise<RunReplayResult>;
}

export interface WorkflowHarness {
  /** The host's base URL and keys, for calls the harness does not wrap. */
  readonly host: DevHost;
  readonly model: ScriptedModel;
  /** Calls answered by tool scripts, in order. */
  readonly toolCalls: readonly RecordedToolCall[];
  readonly clock: TestClock;
  /** Appends model answers to the script (same rules as `options.model.steps`). */
  expectModel(...steps: ModelStepScript[]): void;
  /** Sets (or with `undefined`, removes) a tool's script. */
  scriptTool(tool: string, script: ToolScript | undefined): void;
  /** Starts a run through `POST /api/workflows/{name}`; throws with the answer on anything but 202. */
  start(workflow: string, input: unknown): Promise<WorkflowRun>;
  /** `start` then `result`. */
  run(workflow: string, input: unknown, options?: { timeoutMs?: number }): Promise<RunResult>;
  /** Fast-forwards durable time (ms or ISO-8601 like `P1D`) and waits until the host has caught up. */
  advanceTime(by: number | string): Promise<void>;
  /** Resolves when nothing is running or runnable on the host. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);
const DEFAULT_TIMEOUT_MS = 60_000;
let active: string | undefined;

/** The package root: the nearest folder above this file with host.json (dist/src/testing when built). */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'host.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`durable-agents/testing: no host.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

const isYaml = (file: string) => /\.ya?ml$/i.test(file);

/** One folder holding exactly the given workflow files, and the file of each workflow name. */
function workflowFolder(
  specs: readonly string[],
  scratch: string,
): { dir: string; files: Map<string, string> } {
  const sources: string[] = [];
  for (const spec of specs) {
    const resolved = path.resolve(spec);
    if (!existsSync(resolved))
      throw new Error(`durable-agents/testing: no workflow file or folder ${resolved}`);
    if (statSync(resolved).isDirectory()) {
      sources.push(
        ...readdirSync(resolved)
          .filter(isYaml)
          .sort()
          .map((file) => path.join(resolved, file)),
      );
    } else if (isYaml(resolved)) sources.push(resolved);
    else throw new Error(`durable-agents/testing: ${resolved} is not a .yaml or .yml workflow file`);
  }
  if (sources.length === 0)
    throw new Error(`durable-agents/testing: no workflow files in ${specs.join(', ')}`);
  const dir = path.join(scratch, 'workflows');
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, string>();
  for (const source of sources) {
    const target = path.join(dir, path.basename(source));
    if (existsSync(target))
      throw new Error(`durable-agents/testing: two workflow files are named ${path.basename(source)}`);
    copyFileSync(source, target);
    const parsed = parseYaml(readFileSync(source, 'utf8')) as { name?: unknown } | null;
    if (typeof parsed?.name === 'string') files.set(parsed.name, source);
  }
  return { dir, files };
}

async function readJson<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${what} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Starts the local host with the app, the scripted model and the scripted tools. */
export async function startWorkflowHarness(options: WorkflowHarnessOptions): Promise<WorkflowHarness> {
  if (active !== undefined) {
    throw new Error(
      `durable-agents/testing: a harness is already running in this process (started for ${active}); ` +
        'stop() it first: the app reads its settings from the process environment',
    );
  }
  const specs = typeof options.workflows === 'string' ? [options.workflows] : options.workflows;
  active = specs.join(', ');
  const scratch = mkdtempSync(path.join(tmpdir(), 'durable-agents-testing-'));
  const saved = new Map<string, string | undefined>();
  const setEnv = (name: string, value: string) => {
    if (!saved.has(name)) saved.set(name, process.env[name]);
    process.env[name] = value;
  };
  const cleanups: (() => Promise<void> | void)[] = [
    () => {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(scratch, { recursive: true, force: true });
      active = undefined;
    },
  ];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  try {
    const { dir: workflowsDir, files: workflowFiles } = workflowFolder(specs, scratch);

    const tracker = new ModelCallTracker();
    const model = await startScriptedModel({
      ordered: options.model?.ordered ?? false,
      steps: tracker.scriptSteps(options.model?.steps ?? []),
      faults: tracker.faultRules(options.model?.faults ?? []),
    });
    cleanups.push(() => model.stop());

    let storage = options.storage ?? process.env.AzureWebJobsStorage;
    if (storage === undefined || storage.trim() === '' || /UseDevelopmentStorage=true/i.test(storage)) {
      const azurite = await startInMemoryAzurite();
      cleanups.push(() => azurite.stop());
      storage = azurite.connectionString;
    }

    setEnv('AzureWebJobsStorage', storage);
    setEnv('WORKFLOWS_DIR', workflowsDir);
    // Every role goes to the scripted model over the real SDKs: Claude roles over the Messages API,
    // GPT roles over the OpenAI API (src/models/README.md); the offline model stays off.
    setEnv('OFFLINE_MODEL', 'off');
    setEnv('ANTHROPIC_API_KEY', 'durable-agents-testing');
    setEnv('ANTHROPIC_BASE_URL', model.anthropicBaseUrl);
    setEnv('OPENAI_API_KEY', 'durable-agents-testing');
    setEnv('OPENAI_BASE_URL', model.openaiBaseUrl);
    for (const [name, value] of Object.entries(options.settings ?? {})) setEnv(name, value);

    const toolCalls: RecordedToolCall[] = [];
    const toolScripts = new Map(Object.entries(options.tools ?? {}));
    const clock = new TestClock({ autoSkip: options.autoSkipTimers ?? false });
    const log =
      options.log ??
      ((level: LogLevel, message: string) => {
        if (level === 'error' || level === 'critical') console.error(`[durable-agents/testing] ${message}`);
      });
    const host = await startDevHost({
      appDir: options.appDir ?? packageRoot(),
      port: 0,
      stateDir: path.join(scratch, 'state'),
      azurite: 'off',
      clock,
      log,
      interceptDurableInvocation: async (name, input, next) => {
        const payload: unknown =
          'json' in (input.trigger ?? {}) ? JSON.parse((input.trigger as { json: string }).json) : undefined;
        if (name === Names.activities.callModel) {
          const call = ModelCallInput.safeParse(payload);
          if (!call.success) return next(input);
          const { runId, stepId, role, attempt } = call.data;
          return tracker.run({ runId, stepId, role, attempt: attempt ?? 0 }, () => next(input));
        }
        const tool = name.startsWith('tool_') ? name.slice('tool_'.length) : undefined;
        const script = tool === undefined ? undefined : toolScripts.get(tool);
        if (tool !== undefined && script !== undefined) {
          const result = await answerToolCall(tool, script, payload, (call) => toolCalls.push(call));
          return { returnValue: { json: JSON.stringify(result) }, outputData: [] };
        }
        return next(input);
      },
    });
    cleanups.push(() => host.stop());
    const engine = host.backend as DurableEngine;
    const stateDir = path.join(scratch, 'state');

    const call = async <T>(
      method: string,
      route: string,
      key: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) =>
      readJson<T>(
        await fetch(`${host.url}/api/${route}`, {
          method,
          headers: {
            'x-functions-key': key,
            ...headers,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
        `${method} /api/${route}`,
      );

    const runHandle = (id: string, workflow: string): WorkflowRun => {
      const route = `runs/${encodeURIComponent(id)}`;
      const view = () => call<RunView>('GET', route, host.keys.functionKey);
      const decide = async (
        action: 'approve' | 'reject',
        decision: { by?: string; comment?: string } = {},
      ) => {
        await call(
          'POST',
          `${route}/${action}`,
          host.keys.functionKey,
          decision.comment === undefined ? {} : { comment: decision.comment },
          {
            ...(decision.by === undefined ? {} : { 'x-ms-client-principal-name': decision.by }),
          },
        );
      };
      const waitUntil = async (what: string, until: (run: RunView) => boolean, timeoutMs: number) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const current = await view();
          if (until(current)) return current;
          if (Date.now() > deadline) {
            const waiting = current.progress?.waitingFor;
            const hint = waiting
              ? `; it waits for "${waiting.event}" until ${waiting.until}: approve it, or advanceTime() past that`
              : '';
            throw new Error(
              `run ${id} (${workflow}) did not ${what} within ${timeoutMs} ms: it is ${current.status}${hint}`,
            );
          }
          await sleep(20);
        }
      };
      const replay = async () => {
        const exported = await exportRunFromStore({
          stateDir,
          instanceId: id,
          ...(workflowFiles.has(workflow) ? { workflowFile: workflowFiles.get(workflow) } : {}),
        });
        return replayRunExport(exported);
      };
      return {
        id,
        view,
        async waitForApproval({ timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
          const current = await waitUntil(
            'wait for an approval',
            (run) => run.progress?.waitingFor !== undefined || TERMINAL.has(run.status),
            timeoutMs,
          );
          const waiting = current.progress?.waitingFor;
          if (!waiting) {
            throw new Error(
              `run ${id} (${workflow}) ended ${current.status} without waiting for an approval`,
            );
          }
          return waiting;
        },
        approve: (decision) => decide('approve', decision),
        reject: (decision) => decide('reject', decision),
        raiseEvent(name, data) {
          const outcome = engine.raiseEvent(id, name, data);
          return outcome === 'accepted'
            ? Promise.resolve()
            : Promise.reject(new Error(`raising "${name}" on run ${id}: ${outcome}`));
        },
        async result({ timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
          const raw = await waitUntil('finish', (run) => TERMINAL.has(run.status), timeoutMs);
          const detail = await call<RunDetail>('GET', `operator/${route}`, host.keys.masterKey);
          return {
            id,
            status: raw.status,
            outcome: raw.outcome,
            output: raw.output,
            error: raw.error,
            ledger: raw.ledger?.rows ?? [],
            totals: raw.ledger?.totals ?? null,
            timeline: detail.timeline,
            raw,
            detail,
          };
        },
        replay,
        async assertReplays() {
          const result = await replay();
          const problems = [
            ...(result.divergence ? [describeDivergence(result.divergence)] : []),
            ...result.notReplayable.map((entry) => `${entry.instanceId} cannot be replayed: ${entry.reason}`),
          ];
          if (problems.length > 0) {
            throw new Error(
              `run ${id} (${workflow}) does not replay against this build:\n  ${problems.join('\n  ')}`,
            );
          }
          return result;
        },
      };
    };

    const harness: WorkflowHarness = {
      host,
      model,
      toolCalls,
      clock,
      expectModel: (...steps) => model.expect(...tracker.scriptSteps(steps)),
      scriptTool(tool, script) {
        if (script === undefined) toolScripts.delete(tool);
        else toolScripts.set(tool, script);
      },
      async start(workflow, input) {
        const accepted = await call<{ id: string }>(
          'POST',
          `workflows/${encodeURIComponent(workflow)}`,
          host.keys.functionKey,
          input,
        );
        return runHandle(accepted.id, workflow);
      },
      async run(workflow, input, runOptions) {
        return (await harness.start(workflow, input)).result(runOptions);
      },
      async advanceTime(by) {
        clock.advance(by);
        await engine.waitForIdle();
      },
      idle: () => engine.waitForIdle(),
      stop: cleanUp,
    };
    return harness;
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

async function startInMemoryAzurite(): Promise<AzuriteProcess> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const [blobPort = 0, queuePort = 0, tablePort = 0] = await freeLoopbackPorts(3);
    try {
      return await startAzurite({ blobPort, queuePort, tablePort, inMemory: true });
    } catch (error) {
      lastError = error; // a port was taken between reservation and bind: try others
    }
  }
  throw new Error(
    `durable-agents/testing: could not start Azurite (give a storage connection string instead): ${String(lastError)}`,
  );
}
