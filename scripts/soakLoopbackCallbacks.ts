/**
 * Preloaded into the soak's host (`node --require dist/scripts/soakLoopbackCallbacks.js`): it lets
 * completion callbacks reach the soak's own receiver on 127.0.0.1, and nothing else. The shipped app is
 * loaded unchanged (`--app .`); only the SSRF guard's TEST ONLY allowance (`allowLoopbackForTests`,
 * src/tools/web/ssrfGuard.ts) is switched on for URLs under `SOAK_CALLBACK_ORIGIN`, which the soak sets.
 * The app never reads that variable: it exists only in this preload, never in the app's settings.
 *
 * `--require` modules run in every worker thread too (Node's `NODE_OPTIONS`/execArgv preload), so this
 * reaches the devhost's language worker, where the app runs. The compiled app is CommonJS and calls
 * `checkUrl` through the module's exports object, which this replaces before the app is loaded.
 */
import * as guard from '../src/tools/web/ssrfGuard.js';

const origin = process.env.SOAK_CALLBACK_ORIGIN;
if (origin === undefined || !/^http:\/\/127\.0\.0\.1:\d+$/.test(origin)) {
  throw new Error(
    `soakLoopbackCallbacks: SOAK_CALLBACK_ORIGIN must be http://127.0.0.1:<port>, not ${origin}`,
  );
}
const original = guard.checkUrl;
const patched: typeof guard.checkUrl = (url, resolver, options) =>
  original(url, resolver, {
    ...options,
    allowLoopbackForTests: options?.allowLoopbackForTests === true || String(url).startsWith(`${origin}/`),
  });
(guard as { checkUrl: typeof guard.checkUrl }).checkUrl = patched;
