import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseWorkflowSources } from '../../src/definitions/workflowSet.js';
import { startTestHost, type TestHost } from '../support/testHost.js';
import { BAD_CASES, type Call, sendCall } from './badInputs.js';

/**
 * The bad-input suite (issue 20): hostile input across HTTP, the queue and workflow files, through the real
 * app on the local host. Every case must get a 4xx (HTTP), the poison queue on its first delivery with a
 * reason (queue) or errors naming the file and line (workflow files): never a 5xx, a failed invocation or
 * a throw, and the host must answer a health probe after each. Prints a table of the cases by category.
 * The exact status and message of each HTTP case are pinned in contract.test.ts.
 */
const appDir = path.resolve(__dirname, '../..');
const queueName = `bad-suite-${process.pid}`;

let host: TestHost;
let queue: QueueClient;
let poison: QueueClient;

interface Tally {
  cases: number;
  fourXx: number;
  failed: number;
  poisoned: number;
  reported: number;
}
const tally = new Map<string, Tally>();
function count(category: string, field: keyof Omit<Tally, 'cases'>): void {
  const row = tally.get(category) ?? { cases: 0, fourXx: 0, failed: 0, poisoned: 0, reported: 0 };
  row.cases++;
  row[field]++;
  tally.set(category, row);
}

beforeAll(async () => {
  Object.assign(process.env, {
    OFFLINE_MODEL: 'on',
    CALLBACK_SIGNING_SECRET: 'bad-suite-secret-0123456789abcdef0123',
    WORKFLOW_REQUESTS_QUEUE: queueName,
  });
  const service = QueueServiceClient.fromConnectionString(inject('azuriteConnectionString'));
  queue = service.getQueueClient(queueName);
  poison = service.getQueueClient(`${queueName}-poison`);
  await queue.createIfNotExists();
  host = await startTestHost({ appDir });
});

afterAll(async () => {
  const rows = [...tally].map(([category, t]) => ({ category, ...t }));
  const total = rows.reduce((sum, r) => sum + r.cases, 0);
  // failed: a 5xx, a message not poisoned on its first delivery, or a file that threw or named no error.
  console.log(`\nBad-input suite: ${total} cases, ${rows.reduce((s, r) => s + r.failed, 0)} failed`);
  console.table(rows);
  await host?.stop();
  await queue?.deleteIfExists();
  await poison?.deleteIfExists();
});

const send = (request: Call): Promise<Response> => sendCall(host.host.url, host.host.keys, request);

async function healthy(): Promise<boolean> {
  const response = await send({ method: 'GET', path: '/api/openapi.json' });
  await response.arrayBuffer();
  return response.status === 200;
}

function httpCategory(name: string): string {
  if (/levels|brackets/.test(name)) return 'HTTP: nesting';
  if (/UTF-8|Latin-1|byte|overlong|surrogate|truncated|0xF|U\+10FFFF/.test(name)) return 'HTTP: encoding';
  if (/callback/i.test(name)) return 'HTTP: callback URL';
  if (/key|Idempotency/i.test(name)) return 'HTTP: keys and headers';
  if (/wait/.test(name)) return 'HTTP: query';
  return 'HTTP: body and routes';
}

describe('HTTP', () => {
  it.each(BAD_CASES)('$name: a 4xx, and the host stays healthy', async (bad) => {
    const response = await send(bad.call);
    await response.arrayBuffer();
    count(httpCategory(bad.name), response.status >= 500 ? 'failed' : 'fourXx');
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await healthy()).toBe(true);
  });
});

const ticket = { subject: 's', body: 'b' };
const message = (value: unknown) => Buffer.from(JSON.stringify(value));
const QUEUE_CASES: { name: string; bytes: Buffer; reason: RegExp }[] = [
  ...['', ' ', '{', '{"workflow":', 'null', 'true', '42', '"text"', '[]', '{}', 'undefined', "{'a':1}"].map(
    (text) => ({
      name: `text ${JSON.stringify(text)}`,
      bytes: Buffer.from(text),
      reason: /not JSON|not a run request/,
    }),
  ),
  ...[33, 100, 1_000, 5_000, 20_000].map((levels) => ({
    name: `${levels} levels of input`,
    bytes: Buffer.from(`{"workflow":"ticket-triage","input":${'['.repeat(levels)}${']'.repeat(levels)}}`),
    reason: /deeper than 32 levels/,
  })),
  ...[[0x80], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]].map(
    (bytes) => ({
      name: `bytes ${bytes.map((b) => b.toString(16)).join(' ')}`,
      bytes: Buffer.concat([
        Buffer.from('{"workflow":"ticket-triage","input":{"subject":"'),
        Buffer.from(bytes),
        Buffer.from('","body":"b"}}'),
      ]),
      reason: /not valid UTF-8/,
    }),
  ),
  {
    name: 'unknown workflow',
    bytes: message({ workflow: 'nope', input: ticket }),
    reason: /No workflow named/,
  },
  { name: 'no workflow', bytes: message({ input: ticket }), reason: /not a run request/ },
  { name: 'workflow a number', bytes: message({ workflow: 7, input: ticket }), reason: /not a run request/ },
  { name: 'input missing', bytes: message({ workflow: 'ticket-triage' }), reason: /schema|input/ },
  {
    name: 'input a string',
    bytes: message({ workflow: 'ticket-triage', input: 'x' }),
    reason: /must be object/,
  },
  {
    name: 'input missing a field',
    bytes: message({ workflow: 'ticket-triage', input: { subject: 's' } }),
    reason: /\/body is required/,
  },
  {
    name: 'input with an extra field',
    bytes: message({ workflow: 'ticket-triage', input: { ...ticket, x: 1 } }),
    reason: /\/x is not allowed/,
  },
  {
    name: 'callback on loopback',
    bytes: message({ workflow: 'ticket-triage', input: ticket, callbackUrl: 'http://127.0.0.1/x' }),
    reason: /callbackUrl is refused/,
  },
  {
    name: 'callback not a URL',
    bytes: message({ workflow: 'ticket-triage', input: ticket, callbackUrl: 'not a url' }),
    reason: /callback|URL/i,
  },
  {
    name: 'batch in a foreign container',
    bytes: message({ workflow: 'ticket-triage', itemsBlob: 'secrets/items.jsonl' }),
    reason: /may not use/,
  },
  {
    name: 'batch with a missing blob',
    bytes: message({ workflow: 'ticket-triage', itemsBlob: 'batches/none.jsonl' }),
    reason: /does not exist/,
  },
  {
    name: 'batch with a bad concurrency',
    bytes: message({ workflow: 'ticket-triage', itemsBlob: 'batches/x.jsonl', concurrency: -1 }),
    reason: /not a batch request/,
  },
];

interface PoisonEntry {
  originalBody: string;
  originalBodyBase64?: string;
  reason: string;
  dequeueCount?: number;
}

describe('queue', () => {
  it(`${QUEUE_CASES.length} bad messages: each poisoned on its first delivery with its reason, none failed`, async () => {
    for (const bad of QUEUE_CASES) await queue.sendMessage(bad.bytes.toString('base64'));
    const entries: PoisonEntry[] = [];
    const deadline = Date.now() + 60_000;
    while (entries.length < QUEUE_CASES.length && Date.now() < deadline) {
      if (await poison.exists()) {
        const { receivedMessageItems } = await poison.receiveMessages({
          numberOfMessages: 32,
          visibilityTimeout: 300,
        });
        for (const item of receivedMessageItems) {
          entries.push(JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as PoisonEntry);
        }
      }
      if (entries.length < QUEUE_CASES.length) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const bad of QUEUE_CASES) {
      const entry = entries.find((e) =>
        e.originalBodyBase64 !== undefined
          ? Buffer.from(e.originalBodyBase64, 'base64').equals(bad.bytes)
          : e.originalBody === bad.bytes.toString('utf8'),
      );
      count(
        bad.name.includes('levels')
          ? 'queue: nesting'
          : bad.name.startsWith('bytes')
            ? 'queue: encoding'
            : 'queue: content',
        entry ? 'poisoned' : 'failed',
      );
      expect(entry, bad.name).toBeDefined();
      expect(entry?.reason, bad.name).toMatch(bad.reason);
      expect(entry?.dequeueCount, bad.name).toBe(1);
    }
    expect(host.logs.filter((line) => /Executed 'Functions.workflowRequests' \(Failed/.test(line))).toEqual(
      [],
    );
    expect(await healthy()).toBe(true);
  }, 120_000);
});

/** Definitions with one value replaced by junk, and hostile texts: errors with file and line, never a throw. */
const shipped = readFileSync(path.join(appDir, 'workflows/ticket-triage.yaml'), 'utf8');
const original = parse(shipped) as Record<string, unknown>;
const withValue = (key: string, value: unknown) => stringify({ ...original, [key]: value });
/** Junk that is nonetheless a valid value there (a version may be 0; budget and roles may be empty). */
const VALID_JUNK = new Set(['version: 0', 'budget: {}', 'roles: {}']);
const WORKFLOW_CASES: { name: string; text: string }[] = [
  ...['name', 'version', 'input', 'steps', 'output', 'budget', 'roles']
    .flatMap((key) =>
      [null, 0, -1, '', '{{', [], {}, ['x'], true].map((junk) => ({
        name: `${key}: ${JSON.stringify(junk)}`,
        text: withValue(key, junk),
      })),
    )
    .filter((c) => !VALID_JUNK.has(c.name)),
  { name: 'empty file', text: '' },
  { name: 'a list', text: '- a\n- b\n' },
  { name: 'a scalar', text: 'just text' },
  { name: 'tabs for indentation', text: 'name: t\n\tversion: 1\n' },
  { name: 'unclosed quote', text: 'name: "t\nversion: 1\n' },
  { name: 'duplicate keys', text: `${shipped}\nname: again\n` },
  {
    name: 'deeply nested flow',
    text: `name: t\nversion: 1\ninput: ${'['.repeat(2_000)}${']'.repeat(2_000)}\n`,
  },
  {
    name: 'alias bomb',
    text: `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`,
  },
  { name: 'binary garbage', text: '\u0000\u0001\u0002\uFFFD\uFFFE' },
  { name: 'a huge line', text: `name: ${'x'.repeat(200_000)}\n` },
];

describe('workflow files', () => {
  it.each(WORKFLOW_CASES)('$name: errors with the file and a line, no throw', ({ text }) => {
    let errors: { file: string; line: number; message: string }[] = [];
    expect(() => {
      errors = [
        ...parseWorkflowSources([{ file: 'workflows/ticket-triage.yaml', name: 'ticket-triage', text }])
          .errors,
      ];
    }).not.toThrow();
    count('workflow files', errors.length > 0 ? 'reported' : 'failed');
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(error.file).toBe('workflows/ticket-triage.yaml');
      expect(error.line).toBeGreaterThanOrEqual(1);
      expect(error.message.length).toBeGreaterThan(0);
    }
  });
});

describe('the whole suite', () => {
  it('has at least 150 cases', () => {
    expect(BAD_CASES.length + QUEUE_CASES.length + WORKFLOW_CASES.length).toBeGreaterThanOrEqual(150);
  });
});
