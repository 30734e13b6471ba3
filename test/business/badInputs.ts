/** Bad requests to the business API, each with the status and message it must get (test/business/contract.test.ts). */
export const ticket = { subject: 'Refund', body: 'I was charged twice this month.' };

export interface Call {
  readonly method?: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly key?: string | null;
}

export const json = (value: unknown) => JSON.stringify(value);
export const triage = (body: unknown, extra: Partial<Call> = {}): Call => ({
  path: '/api/workflows/ticket-triage',
  body: typeof body === 'string' ? body : json(body),
  ...extra,
});

export interface BadCase {
  readonly name: string;
  readonly call: Call;
  readonly status: number;
  /** Problem type slug (urn:durable-agents:problem:<slug>), when the app answers. */
  readonly type?: string;
  /** Text the detail or one of the errors must contain. */
  readonly message?: string | RegExp;
  readonly pointer?: string;
}

export const BAD_CASES: readonly BadCase[] = [
  {
    name: 'unknown workflow',
    call: { path: '/api/workflows/nope', body: json(ticket) },
    status: 404,
    type: 'unknown-workflow',
    message:
      'No workflow named "nope". Known: data-analysis, document-intake, research-report, ticket-triage',
  },
  {
    name: 'text/plain body',
    call: triage(ticket, { headers: { 'content-type': 'text/plain' } }),
    status: 415,
    type: 'unsupported-media-type',
    message: 'got text/plain',
  },
  {
    name: 'XML content type',
    call: triage('<ticket/>', { headers: { 'content-type': 'application/xml' } }),
    status: 415,
    type: 'unsupported-media-type',
    message: 'Send the input as application/json',
  },
  {
    name: 'form content type',
    call: triage('a=b', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    status: 415,
    type: 'unsupported-media-type',
  },
  { name: 'malformed JSON', call: triage('{"subject":'), status: 400, type: 'invalid-json', message: /JSON/ },
  { name: 'empty body', call: triage(''), status: 400, type: 'invalid-json', message: 'The body is empty' },
  {
    name: 'body over 1 MiB',
    call: triage({ subject: 'x', body: 'y'.repeat(1024 * 1024) }),
    status: 413,
    type: 'body-too-large',
    message: 'at most 1048576 bytes',
  },
  {
    name: 'array body',
    call: triage([ticket]),
    status: 400,
    type: 'invalid-input',
    pointer: '',
    message: 'must be object',
  },
  {
    name: 'string body',
    call: triage('"a ticket"'),
    status: 400,
    type: 'invalid-input',
    message: 'must be object',
  },
  { name: 'null body', call: triage('null'), status: 400, type: 'invalid-input', message: 'must be object' },
  {
    name: 'missing subject',
    call: triage({ body: 'b' }),
    status: 400,
    type: 'invalid-input',
    pointer: '/subject',
    message: 'is required',
  },
  {
    name: 'missing body',
    call: triage({ subject: 's' }),
    status: 400,
    type: 'invalid-input',
    pointer: '/body',
    message: 'is required',
  },
  {
    name: 'unknown property',
    call: triage({ ...ticket, colour: 'red' }),
    status: 400,
    type: 'invalid-input',
    pointer: '/colour',
    message: 'is not allowed here',
  },
  {
    name: 'subject of the wrong type',
    call: triage({ ...ticket, subject: 42 }),
    status: 400,
    type: 'invalid-input',
    pointer: '/subject',
    message: 'must be string',
  },
  {
    name: 'empty ticket body',
    call: triage({ ...ticket, body: '' }),
    status: 400,
    type: 'invalid-input',
    pointer: '/body',
    message: 'must NOT have fewer than 1 characters',
  },
  {
    name: 'tier outside the enum',
    call: triage({ ...ticket, customerTier: 'gold' }),
    status: 400,
    type: 'invalid-input',
    pointer: '/customerTier',
    message: 'must be equal to one of the allowed values',
  },
  {
    name: 'subject too long',
    call: triage({ ...ticket, subject: 's'.repeat(501) }),
    status: 400,
    type: 'invalid-input',
    pointer: '/subject',
    message: 'must NOT have more than 500 characters',
  },
  {
    name: 'research topic too short',
    call: { path: '/api/workflows/research-report', body: json({ topic: 'ab' }) },
    status: 400,
    type: 'invalid-input',
    pointer: '/topic',
  },
  {
    name: 'research questions out of range',
    call: { path: '/api/workflows/research-report', body: json({ topic: 'Durable agents', questions: 99 }) },
    status: 400,
    type: 'invalid-input',
    pointer: '/questions',
  },
  {
    name: 'wait not a number',
    call: triage(ticket, { path: '/api/workflows/ticket-triage?wait=abc' }),
    status: 400,
    type: 'invalid-query',
    message: 'wait must be a whole number of seconds from 0 to 60 (got "abc")',
  },
  {
    name: 'negative wait',
    call: triage(ticket, { path: '/api/workflows/ticket-triage?wait=-1' }),
    status: 400,
    type: 'invalid-query',
    message: '(got "-1")',
  },
  {
    name: 'wait above the maximum',
    call: triage(ticket, { path: '/api/workflows/ticket-triage?wait=999' }),
    status: 400,
    type: 'invalid-query',
    message: 'from 0 to 60',
  },
  {
    name: 'fractional wait',
    call: triage(ticket, { path: '/api/workflows/ticket-triage?wait=1.5' }),
    status: 400,
    type: 'invalid-query',
    message: '(got "1.5")',
  },
  {
    name: 'Idempotency-Key with a space',
    call: triage(ticket, { headers: { 'idempotency-key': 'two words' } }),
    status: 400,
    type: 'invalid-idempotency-key',
    message: 'Idempotency-Key must be printable ASCII without spaces',
  },
  {
    name: 'Idempotency-Key too long',
    call: triage(ticket, { headers: { 'idempotency-key': 'k'.repeat(201) } }),
    status: 400,
    type: 'invalid-idempotency-key',
    message: 'at most 200 characters',
  },
  {
    name: 'empty Idempotency-Key',
    call: triage(ticket, { headers: { 'idempotency-key': '' } }),
    status: 400,
    type: 'invalid-idempotency-key',
    message: 'must not be empty',
  },
  {
    name: 'callback to loopback',
    call: triage(ticket, { headers: { 'callback-url': 'http://127.0.0.1:9/hook' } }),
    status: 400,
    type: 'invalid-callback',
    message: 'a loopback address',
  },
  {
    name: 'callback to a private address',
    call: triage(ticket, { headers: { 'callback-url': 'http://10.0.0.5/hook' } }),
    status: 400,
    type: 'invalid-callback',
    message: 'a private network address',
  },
  {
    name: 'callback to the metadata endpoint',
    call: triage(ticket, { headers: { 'callback-url': 'http://169.254.169.254/latest' } }),
    status: 400,
    type: 'invalid-callback',
    message: 'instance-metadata',
  },
  {
    name: 'callback with an ftp URL',
    call: triage(ticket, { headers: { 'callback-url': 'ftp://example.com/hook' } }),
    status: 400,
    type: 'invalid-callback',
    message: 'the ftp: scheme is not allowed',
  },
  {
    name: 'callback with credentials',
    call: triage(ticket, { headers: { 'callback-url': 'https://user:pw@example.com/hook' } }),
    status: 400,
    type: 'invalid-callback',
    message: 'user name or password',
  },
  {
    name: 'callback not a URL',
    call: triage(ticket, { headers: { 'callback-url': 'not a url' } }),
    status: 400,
    type: 'invalid-callback',
    message: 'not a valid absolute URL',
  },
  {
    name: 'body callbackUrl not a string',
    call: triage({ ...ticket, callbackUrl: 42 }),
    status: 400,
    type: 'invalid-callback',
    pointer: '/callbackUrl',
    message: 'must be a string URL',
  },
  {
    name: 'body callbackUrl on loopback',
    call: triage({ ...ticket, callbackUrl: 'http://localhost:9/x' }),
    status: 400,
    type: 'invalid-callback',
    message: 'loopback',
  },
  {
    name: 'header and body callbacks differ',
    call: triage(
      { ...ticket, callbackUrl: 'https://a.example.com/x' },
      { headers: { 'callback-url': 'https://b.example.com/x' } },
    ),
    status: 400,
    type: 'invalid-callback',
    message: 'differ',
  },
  {
    name: 'unknown run',
    call: { method: 'GET', path: '/api/runs/does-not-exist' },
    status: 404,
    type: 'unknown-run',
    message: 'No run with id "does-not-exist"',
  },
  { name: 'start without a key', call: triage(ticket, { key: null }), status: 401 },
  { name: 'start with a wrong key', call: triage(ticket, { key: 'wrong' }), status: 401 },
  { name: 'run without a key', call: { method: 'GET', path: '/api/runs/x', key: null }, status: 401 },
  {
    name: 'OpenAPI without a key',
    call: { method: 'GET', path: '/api/openapi.json', key: null },
    status: 401,
  },
  { name: 'GET on the starter', call: { method: 'GET', path: '/api/workflows/ticket-triage' }, status: 405 },
];
