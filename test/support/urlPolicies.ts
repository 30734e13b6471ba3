import { systemResolver, type Resolver } from '../../src/net/resolver.js';
import type { UrlPolicy } from '../../src/net/urlPolicy.js';

/**
 * A test's URL policy: loopback (127/8, ::1) is reachable for every origin, so tests can serve pages,
 * callbacks and files from 127.0.0.1, often under a public-looking name mapped by `resolver`. Private,
 * link-local and metadata addresses stay refused. The app never builds this policy: it is injected.
 */
export function loopbackPolicy(resolver: Resolver = systemResolver): UrlPolicy {
  return { resolver, exempts: (target) => target.range === 'loopback' };
}
