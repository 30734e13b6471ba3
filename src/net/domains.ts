/**
 * Domain allow/block lists as steps declare them: `example.com` covers the domain and every subdomain.
 * Entries may be written as `*.example.com`, `.example.com` or even a URL; all mean the same domain.
 */
export function normalizeDomain(entry: string): string {
  let domain = entry.trim().toLowerCase();
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(domain)) {
    try {
      domain = new URL(domain).hostname;
    } catch {
      // not a URL after all: treat the text as a host name
    }
  }
  domain = domain
    .replace(/^\*?\./, '')
    .replace(/\/.*$/, '')
    .replace(/\.$/, '');
  return domain.startsWith('[') ? domain.slice(1, -1) : domain;
}

function hostOf(hostname: string): string {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** True when `hostname` is `domain` or a subdomain of it. */
export function hostMatchesDomain(hostname: string, domain: string): boolean {
  const host = hostOf(hostname);
  const wanted = normalizeDomain(domain);
  return wanted.length > 0 && (host === wanted || host.endsWith(`.${wanted}`));
}

export interface DomainLists {
  readonly allowDomains?: readonly string[] | undefined;
  readonly blockDomains?: readonly string[] | undefined;
}

/** Why `hostname` is excluded by the lists (block wins over allow), or undefined when it may be used. */
export function domainListViolation(hostname: string, lists: DomainLists): string | undefined {
  const blocked = lists.blockDomains?.find((domain) => hostMatchesDomain(hostname, domain));
  if (blocked !== undefined)
    return `${hostOf(hostname)} is on this step's block list (${normalizeDomain(blocked)})`;
  const allow = lists.allowDomains ?? [];
  if (allow.length > 0 && !allow.some((domain) => hostMatchesDomain(hostname, domain))) {
    return `${hostOf(hostname)} is not on this step's allow list (${allow.map(normalizeDomain).join(', ')})`;
  }
  return undefined;
}
