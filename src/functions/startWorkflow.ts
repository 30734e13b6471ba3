import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import type { Config } from '../config.js';
import type { WorkflowRegistry } from '../shared/workflows.js';
import { invalidBody, problem, problemResponse } from './problem.js';

export interface StartWorkflowDeps {
  readonly workflows: WorkflowRegistry;
  readonly getClient: (context: InvocationContext) => DurableClient;
  readonly config: () => Pick<Config, 'maxWaitSeconds'>;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;
const WAIT_POLL_INTERVAL_MS = 250;

export function isJsonContentType(header: string | null): boolean {
  const mediaType = header?.split(';')[0]?.trim() ?? '';
  return JSON_MEDIA_TYPE.test(mediaType);
}

/** Seconds to hold the request open for the result, from `?wait=`; a string is the reason it is invalid. */
export function parseWait(raw: string | null, maxSeconds: number): number | string {
  if (raw === null || raw === '') return 0;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > maxSeconds) {
    return `wait must be a whole number of seconds from 0 to ${maxSeconds} (got "${raw}")`;
  }
  return seconds;
}

async function readJson(
  request: HttpRequest,
): Promise<{ ok: true; value: unknown } | { ok: false; reason: string }> {
  const text = await request.text();
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: text.trim() === '' ? 'The body is empty' : (error as Error).message };
  }
}

/** `POST /api/workflows/{name}`: validate the input, start the orchestration, answer 202 with the status URLs. */
export function createStartWorkflow(deps: StartWorkflowDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const name = request.params.name ?? '';
    const workflow = deps.workflows.get(name);
    if (!workflow) {
      const known = [...deps.workflows.keys()].join(', ');
      return problemResponse(
        problem('unknown-workflow', 404, 'Unknown workflow', `No workflow named "${name}". Known: ${known}.`),
      );
    }
    const contentType = request.headers.get('content-type');
    if (!isJsonContentType(contentType)) {
      return problemResponse(
        problem(
          'unsupported-media-type',
          415,
          'Unsupported media type',
          `Send the input as application/json (got ${contentType ?? 'no content type'}).`,
        ),
      );
    }
    const wait = parseWait(request.query.get('wait'), deps.config().maxWaitSeconds);
    if (typeof wait === 'string') {
      return problemResponse(
        problem('invalid-query', 400, 'Invalid query parameter', wait, [{ parameter: 'wait', detail: wait }]),
      );
    }
    const body = await readJson(request);
    if (!body.ok) {
      return problemResponse(problem('invalid-json', 400, 'Malformed JSON', body.reason));
    }
    const input = workflow.input.safeParse(body.value);
    if (!input.success) return problemResponse(invalidBody(input.error, name));

    const client = deps.getClient(context);
    const instanceId = await client.startNew(workflow.orchestrator, { input: input.data });
    context.log(`Started workflow ${name} as instance ${instanceId}`);
    if (wait > 0) {
      return client.waitForCompletionOrCreateCheckStatusResponse(request, instanceId, {
        timeoutInMilliseconds: wait * 1_000,
        retryIntervalInMilliseconds: WAIT_POLL_INTERVAL_MS,
      });
    }
    return client.createCheckStatusResponse(request, instanceId);
  };
}
