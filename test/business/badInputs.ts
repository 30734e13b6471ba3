/** Bad requests to the business API, each with the status and message it must get (test/business/contract.test.ts). */
export const ticket = { subject: 'Refund', body: 'I was charged twice this month.' };

export interface Call {
  readonly method?: string;
  readonly path: string;
  /** Text is sent as UTF-8; bytes as they are (invalid UTF-8 cases). */
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  /** The function key unless given; null sends none. */
  readonly key?: string | null;
  /** Send the admin (master) key: the operator routes. */
  readonly admin?: boolean;
}

/** Sends a `Call` to a host at `url` with its keys: JSON content type when there is a body. */
export function sendCall(
  url: string,
  keys: { masterKey: string; functionKey: string },
  { method = 'POST', path: route, body, headers = {}, key, admin }: Call,
): Promise<Response> {
  const keyHeader: Record<string, string> =
    key === null ? {} : { 'x-functions-key': key ?? (admin ? keys.masterKey : keys.functionKey) };
  return fetch(`${url}${route}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...keyHeader,
      ...headers,
    },
    ...(body === undefined ? {} : { body }),
  });
}

export const json = (value: unknown) => JSON.stringify(value);
export const triage = (body: unknown, extra: Partial<Call> = {}): Call => ({
  path: '/api/workflows/ticket-triage',
  body: typeof body === 'string' || body instanceof Uint8Array ? body : json(body),
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

/** `levels` of nested arrays inside the ticket's `body`: the whole document nests `levels + 1` deep. */
const deepTicket = (levels: number) => `{"subject":"s","body":${'['.repeat(levels)}${']'.repeat(levels)}}`;

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
  ...nestingCases(),
  ...utf8Cases(),
];

/** Bodies nesting deeper than the stated limit (32), on every route that takes JSON: 400, never a 500. */
function nestingCases(): BadCase[] {
  const tooDeep = { status: 400, type: 'too-deep', message: 'deeper than 32 levels' } as const;
  const routes: [string, Call & { body?: never }][] = [
    ['approve', { path: '/api/runs/any-run/approve' }],
    ['reject', { path: '/api/runs/any-run/reject' }],
    ['cancel', { path: '/api/runs/any-run/cancel' }],
    ['operator approve', { path: '/api/operator/runs/any-run/approve', admin: true }],
    ['operator terminate', { path: '/api/operator/runs/any-run/terminate', admin: true }],
    ['operator purge', { path: '/api/operator/purge', admin: true }],
  ];
  return [
    ...[32, 63, 100, 1_000, 20_000].map((levels) => ({
      name: `start: ${levels + 1} levels of arrays`,
      call: triage(deepTicket(levels)),
      ...tooDeep,
    })),
    {
      name: 'start: 20,000 levels of objects',
      call: triage(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`),
      ...tooDeep,
    },
    {
      name: 'start: deep and malformed',
      call: triage(`${'['.repeat(5_000)}`),
      ...tooDeep,
    },
    {
      name: 'start: 32 levels pass the limit and meet the schema',
      call: triage(deepTicket(31)),
      status: 400,
      type: 'invalid-input',
      pointer: '/body',
    },
    {
      name: 'start: brackets inside strings do not count',
      call: triage({ subject: '['.repeat(100), body: '{'.repeat(100), extra: 1 }),
      status: 400,
      type: 'invalid-input',
      pointer: '/extra',
    },
    ...routes.map(([route, call]) => ({
      name: `${route}: 20,000 levels`,
      call: { ...call, body: `{"comment":${'['.repeat(20_000)}${']'.repeat(20_000)}}` },
      ...tooDeep,
    })),
  ];
}

/** Bytes that are not UTF-8, on every route that takes JSON: 400 naming the byte, never U+FFFD. */
function utf8Cases(): BadCase[] {
  const inTicket = (...bytes: number[]) =>
    Buffer.concat([Buffer.from('{"subject":"s","body":"'), Buffer.from(bytes), Buffer.from('"}')]);
  const invalid = { status: 400, type: 'invalid-utf8', message: /not valid UTF-8 \(byte \d+ is 0x/ } as const;
  const sequences: [string, number[]][] = [
    ['a lone continuation byte', [0x80]],
    ['0xFF', [0xff]],
    ['0xFE', [0xfe]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an overlong NUL', [0xc0, 0x80]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated 3-byte sequence', [0xe2, 0x82]],
    ['Latin-1 text', [0x47, 0x72, 0xfc, 0xdf, 0x65]],
  ];
  const routes: [string, Call & { body?: never }][] = [
    ['approve', { path: '/api/runs/any-run/approve' }],
    ['cancel', { path: '/api/runs/any-run/cancel' }],
    ['operator terminate', { path: '/api/operator/runs/any-run/terminate', admin: true }],
    ['operator purge', { path: '/api/operator/purge', admin: true }],
  ];
  return [
    ...sequences.map(([what, bytes]) => ({
      name: `start: ${what}`,
      call: triage(inTicket(...bytes)),
      ...invalid,
    })),
    ...routes.map(([route, call]) => ({
      name: `${route}: Latin-1 comment`,
      call: { ...call, body: Buffer.from([0x7b, 0x22, 0x63, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]) },
      ...invalid,
    })),
  ];
}
