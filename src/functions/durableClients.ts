import type { InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { useDurableClientHttp } from './durableClientTransport.js';

type GetClient = (context: InvocationContext) => DurableClient;

/**
 * `df.getClient` as the handlers use it, but one client per distinct client binding: the library builds a
 * new DurableClient for every call (an axios instance and a URL check of every management link), which
 * was a tenth of an HTTP start. The binding's value is the same for every invocation of a host and changes
 * only when its keys or URLs do, which makes a new client. A client keeps no state between calls.
 * Each client reaches the extension through `durableClientHttp` (see durableClientTransport.ts).
 */
export function sharedDurableClients(getClient: GetClient): GetClient {
  let last: { key: string; client: DurableClient } | undefined;
  return (context) => {
    const binding = context.options.extraInputs.find((input) => input.type.toLowerCase() === 'durableclient');
    if (binding === undefined) return getClient(context);
    // getClient also rewrites the links for local hosts by WEBSITE_HOSTNAME, read per call
    // (durable-functions lib/src/durableClient/getClient.js), so the cache key reads it the same way.
    // eslint-disable-next-line no-restricted-properties -- the library's input, not an app setting
    const key = `${process.env.WEBSITE_HOSTNAME ?? ''}\n${JSON.stringify(context.extraInputs.get(binding))}`;
    if (last?.key !== key) {
      const client = getClient(context);
      useDurableClientHttp(client);
      last = { key, client };
    }
    return last.client;
  };
}
