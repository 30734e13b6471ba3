// The app's own functions, registered as src/index.ts does (registerApp), except that completion callbacks
// may go to a loopback receiver: a URL policy that exempts loopback (src/net/urlPolicy.ts `UrlPolicy`),
// injected as an override of registerApp (never from configuration). The signing secret comes from the test
// (CALLBACK_TEST_SECRET); its own queue name keeps its queue trigger off the queues of other tests sharing
// Azurite.
const dist = (file) => require(`../../../dist/src/${file}`);
const { registerApp } = dist('registerApp.js');
const { systemResolver } = dist('net/resolver.js');

registerApp({
  env: {
    ...process.env,
    CALLBACK_SIGNING_SECRET: process.env.CALLBACK_TEST_SECRET,
    WORKFLOW_REQUESTS_QUEUE: `callback-${process.pid}`,
  },
  urlPolicy: { resolver: systemResolver, exempts: (target) => target.range === 'loopback' },
});
