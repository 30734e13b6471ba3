/**
 * The SSRF guard: decides whether a server-side request may go to a URL, and pins the connection to the
 * addresses it vetted. What it may waive, and for whom, is the injected `UrlPolicy` (urlPolicy.ts).
 */
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { domainListViolation, type DomainLists } from './domains.js';
import type { UrlOrigin, UrlPolicy } from './urlPolicy.js';

export { systemResolver, type Resolver } from './resolver.js';

export type BlockCode =
  | 'invalid_url'
  | 'unsupported_scheme'
  | 'credentials_in_url'
  | 'domain_not_allowed'
  | 'unresolvable'
  | 'blocked_address';

export interface VettedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** A URL that passed every check, with the addresses a connection may use (and no others). */
export interface VettedTarget {
  readonly url: URL;
  /** The host without IPv6 brackets, for the Host header and TLS SNI. */
  readonly hostname: string;
  readonly addresses: readonly VettedAddress[];
}

export type UrlCheck =
  | { readonly ok: true; readonly target: VettedTarget }
  | {
      readonly ok: false;
      readonly code: BlockCode;
      readonly reason: string;
      /** For `blocked_address`: the range that matched (`loopback`, `private`, `metadata`, ...). */
      readonly range?: string;
    };

export interface CheckUrlOptions extends DomainLists {
  /** Who chose the URL; the policy decides which origins may reach which non-public targets. */
  readonly origin: UrlOrigin;
}

export type AddressVerdict =
  | { readonly blocked: false; readonly connectTo: VettedAddress }
  | { readonly blocked: true; readonly range: string; readonly description: string };

/** Cloud instance-metadata and platform endpoints, named first so the reason says what they are. */
const METADATA_ADDRESSES: Readonly<Record<string, string>> = {
  '169.254.169.254': 'the cloud instance-metadata endpoint (AWS, Azure IMDS, GCP)',
  '169.254.170.2': 'the AWS ECS task-metadata endpoint',
  '168.63.129.16': 'the Azure platform endpoint (WireServer)',
  '100.100.100.200': 'the Alibaba Cloud metadata endpoint',
  '192.0.0.192': 'the Oracle Cloud metadata endpoint',
  'fd00:ec2::254': 'the AWS IPv6 instance-metadata endpoint',
};

const RANGE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  unspecified: 'an unspecified address (0.0.0.0/8 or ::)',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address (169.254/16, fe80::/10)',
  loopback: 'a loopback address (127/8, ::1)',
  carrierGradeNat: 'a carrier-grade NAT address (100.64/10)',
  private: 'a private network address (10/8, 172.16/12, 192.168/16)',
  reserved: 'a reserved or documentation address',
  uniqueLocal: 'a unique-local IPv6 address (fc00::/7)',
  teredo: 'a Teredo tunnel address (2001::/32)',
  ipv4Compatible: 'a deprecated IPv4-compatible IPv6 address (::/96)',
  ipv4Translated: 'an IPv4-translated IPv6 address (::ffff:0:0:0/96)',
  nat64LocalUse: 'a local-use NAT64 address (64:ff9b:1::/48)',
  notGlobalUnicast: 'an IPv6 address outside global unicast (2000::/3)',
};

const describe = (range: string) => RANGE_DESCRIPTIONS[range] ?? `a non-public address (${range})`;
const blocked = (range: string, description = describe(range)): AddressVerdict => ({
  blocked: true,
  range,
  description,
});

function classifyV4(address: ipaddr.IPv4): AddressVerdict {
  const text = address.toString();
  const metadata = METADATA_ADDRESSES[text];
  if (metadata !== undefined) return blocked('metadata', metadata);
  const range = address.range();
  return range === 'unicast' ? { blocked: false, connectTo: { address: text, family: 4 } } : blocked(range);
}

/** An IPv6 address that carries an IPv4 one is only as safe as the IPv4 address inside it. */
function embedded(range: string, inner: ipaddr.IPv4, outer: ipaddr.IPv6): AddressVerdict {
  const verdict = classifyV4(inner);
  if (verdict.blocked) {
    return blocked(verdict.range, `${verdict.description}, embedded in a ${range} IPv6 address`);
  }
  return { blocked: false, connectTo: { address: outer.toString(), family: 6 } };
}

function embeddedV4(bytes: readonly number[], offset: number): ipaddr.IPv4 {
  return new ipaddr.IPv4(bytes.slice(offset, offset + 4));
}

function classifyV6(address: ipaddr.IPv6): AddressVerdict {
  const text = address.toNormalizedString();
  const metadata = METADATA_ADDRESSES[address.toString()];
  if (metadata !== undefined) return blocked('metadata', metadata);
  const bytes = address.toByteArray();
  const range = address.range();
  if (range === 'ipv4Mapped') {
    const verdict = classifyV4(address.toIPv4Address());
    return verdict.blocked
      ? blocked(verdict.range, `${verdict.description}, written as an IPv4-mapped IPv6 address`)
      : verdict;
  }
  if (range === 'rfc6145') return blocked('ipv4Translated');
  if (range === 'rfc6052') {
    const wellKnownPrefix = text.startsWith('64:ff9b:0:0:0:0:');
    return wellKnownPrefix ? embedded('NAT64', embeddedV4(bytes, 12), address) : blocked('nat64LocalUse');
  }
  if (range === '6to4') return embedded('6to4', embeddedV4(bytes, 2), address);
  if (range !== 'unicast') return blocked(range);
  if (bytes.slice(0, 12).every((byte) => byte === 0)) return blocked('ipv4Compatible');
  const firstByte = bytes[0] ?? 0;
  if ((firstByte & 0xe0) !== 0x20) return blocked('notGlobalUnicast');
  return { blocked: false, connectTo: { address: address.toString(), family: 6 } };
}

/**
 * Whether a connection to `address` could reach something inside the network rather than the public
 * internet. Only public IPv4 unicast and global IPv6 unicast (2000::/3) pass.
 */
export function classifyAddress(address: string): AddressVerdict {
  const withoutZone = address.replace(/%.*$/, '');
  if (!ipaddr.isValid(withoutZone)) return blocked('invalid', `not an IP address (${address})`);
  const parsed = ipaddr.parse(withoutZone);
  return parsed.kind() === 'ipv4' ? classifyV4(parsed as ipaddr.IPv4) : classifyV6(parsed as ipaddr.IPv6);
}

/** An exempted address as the connection uses it (`::ffff:127.0.0.1` connects as 127.0.0.1). */
function exemptedAddress(address: string): VettedAddress {
  const parsed = ipaddr.process(address.replace(/%.*$/, ''));
  return { address: parsed.toString(), family: parsed.kind() === 'ipv4' ? 4 : 6 };
}

const ALLOWED_SCHEMES = new Set(['http:', 'https:']);

/** The end of a refusal: what the setting can and cannot change, so nobody lists a host in vain. */
function refusalHint(origin: UrlOrigin): string {
  return origin === 'operator'
    ? 'only public internet addresses can be reached unless URL_POLICY_ALLOW_HOSTS lists the host or its address'
    : 'only public internet addresses can be fetched';
}

/**
 * Decides whether a server-side request to `rawUrl` is safe: http(s) only, no credentials, every address
 * the host resolves to must be public or exempted by `policy` for this origin. The caller must connect only
 * to `target.addresses` (see `guardedFetch`), so a second DNS answer cannot swap in a private address after
 * the check.
 */
export async function checkUrl(
  rawUrl: string | URL,
  policy: UrlPolicy,
  options: CheckUrlOptions,
): Promise<UrlCheck> {
  let url: URL;
  try {
    // The WHATWG parser canonicalizes decimal, hex, octal and short IPv4 forms (2130706433 -> 127.0.0.1).
    url = new URL(rawUrl);
  } catch {
    return { ok: false, code: 'invalid_url', reason: 'not a valid absolute URL' };
  }
  if (!ALLOWED_SCHEMES.has(url.protocol)) {
    return {
      ok: false,
      code: 'unsupported_scheme',
      reason: `the ${url.protocol} scheme is not allowed; only http: and https: URLs can be fetched`,
    };
  }
  if (url.username !== '' || url.password !== '') {
    return {
      ok: false,
      code: 'credentials_in_url',
      reason: 'URLs with a user name or password are refused; credentials must not be sent to web pages',
    };
  }
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (hostname === '') return { ok: false, code: 'invalid_url', reason: 'the URL has no host' };
  const listViolation = domainListViolation(hostname, options);
  if (listViolation !== undefined) return { ok: false, code: 'domain_not_allowed', reason: listViolation };

  let addresses: readonly string[];
  const lowerHost = hostname.toLowerCase().replace(/\.$/, '');
  if (isIP(hostname) !== 0) addresses = [hostname];
  else if (lowerHost === 'localhost' || lowerHost.endsWith('.localhost')) addresses = ['127.0.0.1'];
  else {
    try {
      addresses = await policy.resolver(hostname);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return {
        ok: false,
        code: 'unresolvable',
        reason: `${hostname} could not be resolved${typeof code === 'string' ? ` (${code})` : ''}`,
      };
    }
    if (addresses.length === 0) {
      return { ok: false, code: 'unresolvable', reason: `${hostname} has no addresses` };
    }
  }

  const vetted: VettedAddress[] = [];
  for (const address of addresses) {
    const verdict = classifyAddress(address);
    if (!verdict.blocked) vetted.push(verdict.connectTo);
    else if (policy.exempts({ hostname: lowerHost, address, range: verdict.range, origin: options.origin }))
      vetted.push(exemptedAddress(address));
    else {
      const via = address === hostname ? '' : ` (${hostname} resolves to ${address})`;
      return {
        ok: false,
        code: 'blocked_address',
        range: verdict.range,
        reason: `the target is ${verdict.description}${via}; ${refusalHint(options.origin)}`,
      };
    }
  }
  return { ok: true, target: { url, hostname, addresses: vetted } };
}

/** Hands the connection only the vetted addresses, whatever a fresh DNS answer would say now. */
export function pinnedLookup(addresses: readonly VettedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const first = addresses[0];
    if (first === undefined) {
      callback(new Error('no vetted address'), '', 4);
      return;
    }
    // Node asks with `all: true` when it tries address families in turn (autoSelectFamily).
    if ((options as { all?: boolean }).all === true) {
      (callback as unknown as (err: null, all: VettedAddress[]) => void)(null, [...addresses]);
    } else callback(null, first.address, first.family);
  };
}
