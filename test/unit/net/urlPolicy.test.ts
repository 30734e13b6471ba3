import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/app.js';
import { guardedFetch, type GuardedFetchOptions } from '../../../src/net/guardedFetch.js';
import type { Resolver } from '../../../src/net/resolver.js';
import { checkUrl } from '../../../src/net/ssrfGuard.js';
import {
  allowHostsMatch,
  createUrlPolicy,
  parseAllowHosts,
  type UrlOrigin,
} from '../../../src/net/urlPolicy.js';

const table: Readonly<Record<string, readonly string[]>> = {
  'crm.internal': ['10.20.30.40'],
  'tickets.corp': ['192.168.7.7'],
  'split.corp': ['10.1.1.1', '192.168.9.9'],
  'imds.corp': ['169.254.169.254'],
  'public.example': ['93.184.216.34'],
};
const resolver: Resolver = (host) =>
  table[host]
    ? Promise.resolve(table[host])
    : Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));

const policyFor = (list: string) => {
  const { allowHosts, problems } = parseAllowHosts(list);
  expect(problems).toEqual([]);
  return createUrlPolicy({ resolver, allowHosts });
};

describe('URL_POLICY_ALLOW_HOSTS parsing', () => {
  it('takes host names, IPv4 and IPv6 addresses and CIDR ranges, trimmed and lower-cased', () => {
    const { allowHosts, problems } = parseAllowHosts(
      ' 127.0.0.1 , 10.0.0.0/8,CRM.Internal., ::1, fd00::/8 ,',
    );
    expect(problems).toEqual([]);
    expect(allowHosts.entries.map((entry) => (entry.kind === 'host' ? entry.host : entry.text))).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      'crm.internal',
      '::1',
      'fd00::/8',
    ]);
    expect(parseAllowHosts(undefined)).toEqual({ allowHosts: { entries: [], text: '' }, problems: [] });
  });

  it('names each bad entry and what is wrong with it, all at once', () => {
    const { problems } = parseAllowHosts(
      'http://crm.internal, *.corp, 10.0.0.0/33, 0.0.0.0/0, 999.1.1.1, crm.internal:8080, bad_host!, ::gg',
    );
    expect(problems).toEqual([
      'URL_POLICY_ALLOW_HOSTS entry "http://crm.internal" is a URL; list the host name alone',
      'URL_POLICY_ALLOW_HOSTS entry "*.corp" has a wildcard; list each host name, or an IP range in CIDR form',
      'URL_POLICY_ALLOW_HOSTS entry "10.0.0.0/33" is not a CIDR range (write an address, a slash and a prefix length, e.g. 10.0.0.0/8)',
      'URL_POLICY_ALLOW_HOSTS entry "0.0.0.0/0" covers every address; list the hosts or ranges operator endpoints need',
      'URL_POLICY_ALLOW_HOSTS entry "999.1.1.1" is not a valid IPv4 address',
      'URL_POLICY_ALLOW_HOSTS entry "crm.internal:8080" has a port; list the host alone (every port of a listed host is allowed)',
      'URL_POLICY_ALLOW_HOSTS entry "bad_host!" is not a host name, an IP address or a CIDR range',
      'URL_POLICY_ALLOW_HOSTS entry "::gg" is not a valid IPv6 address',
    ]);
  });

  it('is an app setting: bad entries stop startup with the other configuration problems', () => {
    expect(() => parseConfig({ URL_POLICY_ALLOW_HOSTS: '10.0.0.0/8, nope/1', AGENT_MAX_TURNS: '0' })).toThrow(
      /AGENT_MAX_TURNS must be at least 1[\s\S]*URL_POLICY_ALLOW_HOSTS entry "nope\/1" is not a CIDR range/,
    );
    const config = parseConfig({ URL_POLICY_ALLOW_HOSTS: '127.0.0.1' });
    expect(allowHostsMatch(config.urlPolicyAllowHosts, 'localhost', '127.0.0.1')).toBe(true);
    expect(parseConfig({}).urlPolicyAllowHosts.entries).toEqual([]);
  });

  it('matches listed names by name and listed ranges by address, IPv4-mapped IPv6 included', () => {
    const { allowHosts } = parseAllowHosts('crm.internal, 10.0.0.0/8, ::1');
    expect(allowHostsMatch(allowHosts, 'CRM.internal', '192.168.1.1')).toBe(true);
    expect(allowHostsMatch(allowHosts, 'other', '10.200.0.1')).toBe(true);
    expect(allowHostsMatch(allowHosts, 'other', '::ffff:10.200.0.1')).toBe(true);
    expect(allowHostsMatch(allowHosts, 'other', '::1')).toBe(true);
    expect(allowHostsMatch(allowHosts, 'other', '11.0.0.1')).toBe(false);
    expect(allowHostsMatch(allowHosts, 'crm.internal.evil', '192.168.1.1')).toBe(false);
  });
});

describe('createUrlPolicy', () => {
  const check = (url: string, list: string, origin: UrlOrigin) => checkUrl(url, policyFor(list), { origin });

  it('lets operator URLs reach listed hosts, addresses and ranges, pinned to the vetted addresses', async () => {
    expect(await check('http://crm.internal/api', 'crm.internal', 'operator')).toMatchObject({
      ok: true,
      target: { hostname: 'crm.internal', addresses: [{ address: '10.20.30.40', family: 4 }] },
    });
    expect((await check('http://tickets.corp/', '192.168.0.0/16', 'operator')).ok).toBe(true);
    expect((await check('http://127.0.0.1:8080/', '127.0.0.1', 'operator')).ok).toBe(true);
    expect((await check('http://localhost:8080/', '127.0.0.1', 'operator')).ok).toBe(true);
    expect((await check('http://[::1]:8080/', '::1', 'operator')).ok).toBe(true);
  });

  it('never exempts model- or caller-chosen URLs, whatever the list says', async () => {
    for (const origin of ['model', 'caller'] as const) {
      const refused = await check('http://crm.internal/api', 'crm.internal, 10.0.0.0/8', origin);
      expect(refused).toMatchObject({ ok: false, code: 'blocked_address', range: 'private' });
      if (!refused.ok) expect(refused.reason).toMatch(/only public internet addresses can be fetched$/);
      expect(await check('http://127.0.0.1/', '127.0.0.1', origin)).toMatchObject({ ok: false });
    }
  });

  it('refuses unlisted internal targets with a reason naming the setting', async () => {
    const refused = await check('http://tickets.corp/', 'crm.internal', 'operator');
    expect(refused).toMatchObject({ ok: false, range: 'private' });
    if (!refused.ok) {
      expect(refused.reason).toContain('tickets.corp resolves to 192.168.7.7');
      expect(refused.reason).toContain('unless URL_POLICY_ALLOW_HOSTS lists the host or its address');
    }
  });

  it('checks every address: one unlisted address refuses the host', async () => {
    expect(await check('http://split.corp/', '10.0.0.0/8', 'operator')).toMatchObject({
      ok: false,
      range: 'private',
    });
    expect((await check('http://split.corp/', 'split.corp', 'operator')).ok).toBe(true);
  });

  it('never exempts a cloud metadata endpoint, even by name or range', async () => {
    expect(await check('http://imds.corp/', 'imds.corp', 'operator')).toMatchObject({
      ok: false,
      range: 'metadata',
    });
    expect(await check('http://169.254.169.254/', '169.254.0.0/16', 'operator')).toMatchObject({
      ok: false,
      range: 'metadata',
    });
  });
});

describe('guardedFetch under an operator exemption', () => {
  let server: Server;
  let port: number;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url} host=${request.headers.host}`);
      response.setHeader('content-type', 'application/json');
      response.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const options = (policyResolver: Resolver, origin: UrlOrigin): GuardedFetchOptions => ({
    policy: createUrlPolicy({
      resolver: policyResolver,
      allowHosts: parseAllowHosts('127.0.0.1').allowHosts,
    }),
    origin,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{}'),
    maxBytes: 1024,
    timeoutMs: 5000,
    maxRedirects: 0,
    userAgent: 'test',
    acceptsContentType: () => true,
  });

  it('resolves once and connects to the vetted address, so a rebinding answer cannot redirect it', async () => {
    const answers = [['127.0.0.1'], ['93.184.216.34']];
    let lookups = 0;
    const rebinding: Resolver = () => Promise.resolve(answers[Math.min(lookups++, 1)] ?? []);
    const outcome = await guardedFetch(`http://crm.test:${port}/orders`, options(rebinding, 'operator'));
    expect(outcome).toMatchObject({ kind: 'ok', status: 200 });
    expect(lookups).toBe(1);
    expect(seen.at(-1)).toBe(`POST /orders host=crm.test:${port}`);
  });

  it('refuses the same request when a model chose the URL, before connecting', async () => {
    const before = seen.length;
    const outcome = await guardedFetch(`http://127.0.0.1:${port}/orders`, options(resolver, 'model'));
    expect(outcome).toMatchObject({ kind: 'blocked', code: 'blocked_address', range: 'loopback' });
    expect(seen.length).toBe(before);
  });
});
