/**
 * Preloaded into the soak's host (`node --require dist/scripts/soakLoopbackCallbacks.js`): it lets
 * completion callbacks reach the soak's own receiver on 127.0.0.1. The shipped app is loaded unchanged
 * (`--app .`); only the URL policy it builds (src/net/urlPolicy.ts `createUrlPolicy`) is wrapped so that a
 * caller-chosen URL (a `callbackUrl`) may reach 127.0.0.1 when `SOAK_CALLBACK_ORIGIN` is set, which only the
 * soak does. The policy sees the address, not the port, so any loopback callback or file URL is allowed in
 * the soak's host; model-chosen and operator URLs keep the app's own policy. The app never reads that
 * variable: it exists only in this preload, never in the app's settings.
 *
 * `--require` modules run in every worker thread too (Node's `NODE_OPTIONS`/execArgv preload), so this
 * reaches the devhost's language worker, where the app runs. The compiled app is CommonJS and calls
 * `createUrlPolicy` through the module's exports object, which this replaces before the app is loaded.
 */
import * as policies from '../src/net/urlPolicy.js';

const origin = process.env.SOAK_CALLBACK_ORIGIN;
if (origin === undefined || !/^http:\/\/127\.0\.0\.1:\d+$/.test(origin)) {
  throw new Error(
    `soakLoopbackCallbacks: SOAK_CALLBACK_ORIGIN must be http://127.0.0.1:<port>, not ${origin}`,
  );
}
const original = policies.createUrlPolicy;
const patched: typeof policies.createUrlPolicy = (options) => {
  const policy = original(options);
  return {
    resolver: policy.resolver,
    exempts: (target) =>
      policy.exempts(target) || (target.origin === 'caller' && target.address === '127.0.0.1'),
  };
};
(policies as { createUrlPolicy: typeof policies.createUrlPolicy }).createUrlPolicy = patched;
