/**
 * The URL policy: which non-public targets a server-side request may still reach, and for whom.
 *
 * The SSRF guard (ssrfGuard.ts) refuses every loopback, private, link-local and metadata address. A policy
 * can exempt some of them, but only for URLs an operator wrote into configuration (HTTP tools, MCP
 * servers): `URL_POLICY_ALLOW_HOSTS` lists the host names, IP addresses and CIDR ranges those may reach.
 * URLs a model or a business caller chooses (`fetch_url`, file URL references, completion callbacks) never
 * get the exemption, whatever the list says.
 */
import ipaddr from 'ipaddr.js';
import { systemResolver, type Resolver } from './resolver.js';

/**
 * Who chose the URL. `operator`: written by whoever runs the app (an HTTP tool's `url`, an MCP server's
 * address). `model`: chosen by a model (`fetch_url`). `caller`: sent by a business caller (a file `{ url }`,
 * a `callbackUrl`).
 */
export type UrlOrigin = 'operator' | 'model' | 'caller';

/** A non-public address the guard would refuse, as the policy is asked about it. */
export interface BlockedTarget {
  /** The URL's host, lower case, without IPv6 brackets or a trailing dot. */
  readonly hostname: string;
  /** The address the host resolved to (or the host itself when it is an address). */
  readonly address: string;
  /** The guard's name for the range: `loopback`, `private`, `linkLocal`, `metadata`, `uniqueLocal`, … */
  readonly range: string;
  readonly origin: UrlOrigin;
}

/**
 * What every guarded request takes instead of a flag: how to resolve names, and which refusals to waive.
 * Tests inject their own (for example one that exempts loopback for every origin, with a resolver that maps
 * a public-looking name to 127.0.0.1); the app builds one with `createUrlPolicy` from its settings.
 */
export interface UrlPolicy {
  readonly resolver: Resolver;
  /** True when a connection to this non-public target is allowed anyway. */
  exempts(target: BlockedTarget): boolean;
}

/** One parsed `URL_POLICY_ALLOW_HOSTS` entry. */
export type AllowHostEntry =
  | { readonly kind: 'host'; readonly host: string }
  | { readonly kind: 'range'; readonly text: string; readonly range: [ipaddr.IPv4 | ipaddr.IPv6, number] };

export interface AllowHosts {
  readonly entries: readonly AllowHostEntry[];
  /** The list as an operator would write it, for startup lines. */
  readonly text: string;
}

export const NO_ALLOW_HOSTS: AllowHosts = { entries: [], text: '' };

/** Host names as DNS takes them: labels of letters, digits and hyphens, at most 253 characters. */
const HOST_NAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;

function normalizeHost(host: string): string {
  const lower = host.trim().toLowerCase().replace(/\.$/, '');
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
}

function unzoned(address: string): string {
  return address.replace(/%.*$/, '');
}

/** Why one entry is not usable, or undefined when it is. */
function entryProblem(entry: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) return 'is a URL; list the host name alone';
  if (entry.includes('*')) return 'has a wildcard; list each host name, or an IP range in CIDR form';
  return undefined;
}

/**
 * Parses `URL_POLICY_ALLOW_HOSTS`: comma-separated host names (`crm.internal`), IP addresses (`127.0.0.1`,
 * `::1`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`). Problems name the entry and what is wrong with it; a
 * `/0` range is refused because it would switch the guard off for operator URLs.
 */
export function parseAllowHosts(
  raw: string | undefined,
  setting = 'URL_POLICY_ALLOW_HOSTS',
): { allowHosts: AllowHosts; problems: string[] } {
  const problems: string[] = [];
  const entries: AllowHostEntry[] = [];
  const items = (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const item of items) {
    const problem = entryProblem(item);
    const bad = (reason: string) => problems.push(`${setting} entry ${JSON.stringify(item)} ${reason}`);
    if (problem !== undefined) {
      bad(problem);
      continue;
    }
    if (item.includes('/')) {
      let range: [ipaddr.IPv4 | ipaddr.IPv6, number];
      try {
        range = ipaddr.parseCIDR(normalizeHost(item));
      } catch {
        bad('is not a CIDR range (write an address, a slash and a prefix length, e.g. 10.0.0.0/8)');
        continue;
      }
      if (range[1] === 0) {
        bad('covers every address; list the hosts or ranges operator endpoints need');
        continue;
      }
      entries.push({ kind: 'range', text: item, range });
      continue;
    }
    const host = normalizeHost(item);
    if (ipaddr.isValid(unzoned(host))) {
      const address = ipaddr.parse(unzoned(host));
      entries.push({ kind: 'range', text: item, range: [address, address.kind() === 'ipv4' ? 32 : 128] });
      continue;
    }
    if (/^[\d.]+$/.test(host)) {
      bad('is not a valid IPv4 address');
      continue;
    }
    if (host.includes(':')) {
      bad(
        /^[^:]+:\d+$/.test(host)
          ? 'has a port; list the host alone (every port of a listed host is allowed)'
          : 'is not a valid IPv6 address',
      );
      continue;
    }
    if (!HOST_NAME.test(host)) {
      bad('is not a host name, an IP address or a CIDR range');
      continue;
    }
    entries.push({ kind: 'host', host });
  }
  return { allowHosts: { entries, text: items.join(',') }, problems };
}

/** True when the host name is listed, or the address lies in a listed address or range. */
export function allowHostsMatch(allowHosts: AllowHosts, hostname: string, address: string): boolean {
  const host = normalizeHost(hostname);
  const target = unzoned(address);
  if (!ipaddr.isValid(target)) return false;
  // `::ffff:10.1.2.3` is 10.1.2.3 for matching, as it is for connecting.
  const parsed = ipaddr.process(target);
  return allowHosts.entries.some((entry) => {
    if (entry.kind === 'host') return entry.host === host;
    const [network] = entry.range;
    return network.kind() === parsed.kind() && parsed.match(entry.range);
  });
}

/**
 * Addresses no policy built from settings exempts: the cloud metadata endpoints hand out the app's own
 * credentials, and nothing an operator configures should need them (the Azure SDKs reach them themselves).
 */
const NEVER_EXEMPT_RANGES = new Set(['metadata']);

export interface UrlPolicyOptions {
  readonly allowHosts?: AllowHosts;
  readonly resolver?: Resolver;
}

/**
 * The app's policy: public addresses only, except that operator-configured URLs may reach the hosts and
 * ranges in `allowHosts` (never a cloud metadata endpoint). Model- and caller-chosen URLs get no exemption.
 */
export function createUrlPolicy(options: UrlPolicyOptions = {}): UrlPolicy {
  const allowHosts = options.allowHosts ?? NO_ALLOW_HOSTS;
  return {
    resolver: options.resolver ?? systemResolver,
    exempts: (target) =>
      target.origin === 'operator' &&
      !NEVER_EXEMPT_RANGES.has(target.range) &&
      allowHostsMatch(allowHosts, target.hostname, target.address),
  };
}

/** Public addresses only, for every origin: what a request gets when nothing else is injected. */
export const PUBLIC_ONLY: UrlPolicy = createUrlPolicy();
