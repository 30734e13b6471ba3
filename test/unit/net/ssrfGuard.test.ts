import { describe, expect, it } from 'vitest';
import { checkUrl, classifyAddress, type Resolver } from '../../../src/net/ssrfGuard.js';
import { createUrlPolicy, type UrlPolicy } from '../../../src/net/urlPolicy.js';
import { loopbackPolicy } from '../../support/urlPolicies.js';

/** DNS as a table; unknown names fail like NXDOMAIN. */
function fakeResolver(table: Readonly<Record<string, readonly string[]>>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (addresses === undefined)
      return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses);
  };
  return Object.assign(resolver, { calls });
}

const dns = fakeResolver({
  'public.example': ['93.184.216.34'],
  'internal.example': ['10.1.2.3'],
  'mixed.example': ['93.184.216.34', '192.168.0.10'],
  'v6.example': ['2606:2800:220:1:248:1893:25c8:1946'],
  'metadata.example': ['169.254.169.254'],
  'mapped.example': ['::ffff:10.0.0.1'],
});
const policy = createUrlPolicy({ resolver: dns });
const model = { origin: 'model' } as const;
const withResolver = (resolver: Resolver): UrlPolicy => createUrlPolicy({ resolver });

describe('checkUrl refuses', () => {
  const refused: ReadonlyArray<[string, string, string]> = [
    // [url, code, range]
    ['http://2130706433/', 'blocked_address', 'loopback'],
    ['http://0x7f000001/', 'blocked_address', 'loopback'],
    ['http://0177.0.0.1/', 'blocked_address', 'loopback'],
    ['http://127.1/', 'blocked_address', 'loopback'],
    ['http://127.0.0.1:8080/admin', 'blocked_address', 'loopback'],
    ['http://0.0.0.0/', 'blocked_address', 'unspecified'],
    ['http://0/', 'blocked_address', 'unspecified'],
    ['http://[::1]/', 'blocked_address', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'blocked_address', 'loopback'],
    ['http://[::ffff:7f00:1]/', 'blocked_address', 'loopback'],
    ['http://[0:0:0:0:0:ffff:169.254.169.254]/', 'blocked_address', 'metadata'],
    ['http://169.254.169.254/latest/meta-data/', 'blocked_address', 'metadata'],
    ['http://100.100.100.200/', 'blocked_address', 'metadata'],
    ['http://[fd00:ec2::254]/', 'blocked_address', 'metadata'],
    ['http://168.63.129.16/', 'blocked_address', 'metadata'],
    ['http://10.0.0.1/', 'blocked_address', 'private'],
    ['http://172.16.5.4/', 'blocked_address', 'private'],
    ['http://192.168.1.1/', 'blocked_address', 'private'],
    ['http://100.64.0.1/', 'blocked_address', 'carrierGradeNat'],
    ['http://169.254.10.10/', 'blocked_address', 'linkLocal'],
    ['http://224.0.0.1/', 'blocked_address', 'multicast'],
    ['http://255.255.255.255/', 'blocked_address', 'broadcast'],
    ['http://240.0.0.1/', 'blocked_address', 'reserved'],
    ['http://[fe80::1]/', 'blocked_address', 'linkLocal'],
    ['http://[fc00::1]/', 'blocked_address', 'uniqueLocal'],
    ['http://[ff02::1]/', 'blocked_address', 'multicast'],
    ['http://[::7f00:1]/', 'blocked_address', 'ipv4Compatible'],
    ['http://[64:ff9b::a00:1]/', 'blocked_address', 'private'],
    ['http://[2002:c0a8:101::1]/', 'blocked_address', 'private'],
    ['http://localhost:3000/', 'blocked_address', 'loopback'],
    ['http://api.localhost/', 'blocked_address', 'loopback'],
    ['http://internal.example/', 'blocked_address', 'private'],
    ['http://mixed.example/', 'blocked_address', 'private'],
    ['http://metadata.example/', 'blocked_address', 'metadata'],
    ['http://mapped.example/', 'blocked_address', 'private'],
  ];

  it.each(refused)('%s (%s: %s)', async (url, code, range) => {
    const check = await checkUrl(url, policy, model);
    expect(check).toMatchObject({ ok: false, code, range });
    if (!check.ok) expect(check.reason).toMatch(/only public internet addresses/);
  });

  it('names the resolved address when a host name hides a private one', async () => {
    const check = await checkUrl('https://mixed.example/page', policy, model);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toContain('mixed.example resolves to 192.168.0.10');
  });

  it.each([
    ['file:///etc/passwd', 'file:'],
    ['gopher://example.com:70/_stats', 'gopher:'],
    ['data:text/html,<script>alert(1)</script>', 'data:'],
    ['ftp://example.com/file', 'ftp:'],
    ['javascript:alert(1)', 'javascript:'],
  ])('the %s scheme', async (url, scheme) => {
    const check = await checkUrl(url, policy, model);
    expect(check).toMatchObject({ ok: false, code: 'unsupported_scheme' });
    if (!check.ok) expect(check.reason).toContain(`the ${scheme} scheme is not allowed`);
  });

  it.each([
    'http://user:secret@public.example/',
    'http://public.example@127.0.0.1/',
    'https://token@public.example/',
  ])('credentials in %s (refused, not stripped)', async (url) => {
    expect(await checkUrl(url, policy, model)).toMatchObject({ ok: false, code: 'credentials_in_url' });
  });

  it('garbage and host-less URLs', async () => {
    expect(await checkUrl('not a url', policy, model)).toMatchObject({ ok: false, code: 'invalid_url' });
    expect(await checkUrl('/relative/path', policy, model)).toMatchObject({ ok: false, code: 'invalid_url' });
  });

  it('names that do not resolve', async () => {
    const check = await checkUrl('https://nowhere.example/', policy, model);
    expect(check).toMatchObject({ ok: false, code: 'unresolvable' });
    if (!check.ok) expect(check.reason).toContain('ENOTFOUND');
  });

  it('hosts outside the allow list or on the block list, before any DNS lookup', async () => {
    const resolver = fakeResolver({ 'public.example': ['93.184.216.34'] });
    const outside = await checkUrl('https://public.example/', withResolver(resolver), {
      ...model,
      allowDomains: ['docs.example'],
    });
    expect(outside).toMatchObject({ ok: false, code: 'domain_not_allowed' });
    const listed = await checkUrl('https://sub.public.example/', withResolver(resolver), {
      ...model,
      blockDomains: ['public.example'],
    });
    expect(listed).toMatchObject({ ok: false, code: 'domain_not_allowed' });
    expect(resolver.calls).toEqual([]);
  });
});

describe('checkUrl allows', () => {
  it('a public host and returns the addresses to connect to', async () => {
    const check = await checkUrl('https://public.example/a?b=c', policy, model);
    expect(check).toMatchObject({
      ok: true,
      target: { hostname: 'public.example', addresses: [{ address: '93.184.216.34', family: 4 }] },
    });
  });

  it('public IPv6, public IP literals and public NAT64 addresses', async () => {
    expect((await checkUrl('http://v6.example/', policy, model)).ok).toBe(true);
    expect((await checkUrl('http://8.8.8.8/', policy, model)).ok).toBe(true);
    expect((await checkUrl('http://[2606:4700:4700::1111]/', policy, model)).ok).toBe(true);
    expect((await checkUrl('http://[64:ff9b::808:808]/', policy, model)).ok).toBe(true);
  });

  it('loopback only under a policy that exempts it, and never private or metadata addresses', async () => {
    const lenient = loopbackPolicy(dns);
    expect((await checkUrl('http://127.0.0.1:1234/', lenient, model)).ok).toBe(true);
    expect(await checkUrl('http://[::1]/', lenient, model)).toMatchObject({
      ok: true,
      target: { addresses: [{ address: '::1', family: 6 }] },
    });
    expect(await checkUrl('http://10.0.0.1/', lenient, model)).toMatchObject({ ok: false, range: 'private' });
    expect(await checkUrl('http://169.254.169.254/', lenient, model)).toMatchObject({
      ok: false,
      range: 'metadata',
    });
  });
});

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['fe80::1%eth0', 'linkLocal'],
    ['64:ff9b:1::a00:1', 'nat64LocalUse'],
    ['2001::1', 'teredo'],
    ['2001:db8::1', 'reserved'],
    ['100::1', 'discard'],
    ['not-an-ip', 'invalid'],
  ])('%s is %s', (address, range) => {
    expect(classifyAddress(address)).toMatchObject({ blocked: true, range });
  });

  it('passes public unicast', () => {
    expect(classifyAddress('1.1.1.1')).toMatchObject({ blocked: false });
    expect(classifyAddress('::ffff:1.1.1.1')).toMatchObject({
      blocked: false,
      connectTo: { address: '1.1.1.1' },
    });
  });
});
