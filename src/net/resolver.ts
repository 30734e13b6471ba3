import { lookup } from 'node:dns/promises';

/** Resolves a host name to every address it has (A and AAAA), like `dns.lookup(host, { all: true })`. */
export type Resolver = (hostname: string) => Promise<readonly string[]>;

export const systemResolver: Resolver = async (hostname) => {
  const records = await lookup(hostname, { all: true, verbatim: true });
  return records.map((record) => record.address);
};
