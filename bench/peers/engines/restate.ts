import * as restate from '@restatedev/restate-sdk';
import * as clients from '@restatedev/restate-sdk-clients';
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import path from 'node:path';
import {
  callModel,
  freePort,
  installedVersion,
  nowMs,
  peersDir,
  range,
  waitFor,
  type StartEngine,
} from '../common.js';

/**
 * Restate: the single-binary server from @restatedev/restate-server-linux-x64 with its shipped
 * configuration (RocksDB with WAL fsync on: `restate-server --dump-config` shows
 * rocksdb-disable-wal-fsync = false), and the workloads as one TypeScript service whose handlers
 * journal each step with `ctx.run`, served by this process over HTTP/2 and called through the
 * ingress with the typed client.
 *
 * Docs followed:
 * - services and `restate.serve`: https://docs.restate.dev/develop/ts/overview/
 * - durable steps with `ctx.run`: https://docs.restate.dev/foundations/actions
 * - fan-out by starting `ctx.run`s without awaiting, joined with `RestatePromise.all`:
 *   https://docs.restate.dev/develop/ts/concurrent-tasks
 * - calling handlers from outside with @restatedev/restate-sdk-clients `connect`:
 *   https://docs.restate.dev/develop/ts/service-communication (ingress client)
 * - registering the deployment: admin API `POST /deployments` (https://docs.restate.dev/operate/registration)
 */
const bench = restate.service({
  name: 'bench',
  handlers: {
    sequence: async (ctx: restate.Context, steps: number): Promise<number[]> => {
      const stamps: number[] = [];
      for (let i = 0; i < steps; i++) stamps.push(await ctx.run('stamp', () => nowMs()));
      return stamps;
    },
    fanOut: async (ctx: restate.Context, width: number): Promise<number> => {
      const steps = range(width).map((i) => ctx.run('noop', () => i));
      const results = await restate.RestatePromise.all(steps);
      return results.length;
    },
    fiveSteps: async (ctx: restate.Context, steps: number): Promise<number> => {
      for (let i = 0; i < steps; i++) await ctx.run('noop', () => i);
      return steps;
    },
    agent: async (ctx: restate.Context, input: { url: string; calls: number }): Promise<number> => {
      const replies: string[] = [];
      for (let turn = 0; turn < input.calls; turn++) {
        replies.push(await ctx.run('callModel', () => callModel(input.url, turn)));
      }
      return replies.length;
    },
  },
});

const binary = path.join(peersDir, 'node_modules/@restatedev/restate-server-linux-x64/bin/restate-server');

export const start: StartEngine = async (workDir) => {
  if (process.platform !== 'linux' || process.arch !== 'x64' || !existsSync(binary)) {
    throw new Error(
      `the Restate server binary ships for linux-x64 in @restatedev/restate-server-linux-x64; not installed for ${process.platform}-${process.arch}`,
    );
  }
  const [ingressPort, adminPort, fabricPort, endpointPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const log = openSync(path.join(workDir, 'restate-server.log'), 'a');
  const server = spawn(
    binary,
    ['--no-logo', '--listen-mode', 'tcp', '--base-dir', path.join(workDir, 'restate')],
    {
      env: {
        ...process.env,
        RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingressPort}`,
        RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${adminPort}`,
        RESTATE_BIND_ADDRESS: `127.0.0.1:${fabricPort}`,
      },
      stdio: ['ignore', log, log],
    },
  );
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const admin = `http://127.0.0.1:${adminPort}`;
  const ingressUrl = `http://127.0.0.1:${ingressPort}`;
  await waitFor('restate-server admin API', async () => (await fetch(`${admin}/health`)).ok, 60_000);
  await waitFor(
    'restate-server ingress',
    async () => (await fetch(`${ingressUrl}/restate/health`)).ok,
    60_000,
  );

  await restate.serve({ services: [bench], port: endpointPort });
  const registered = await fetch(`${admin}/deployments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri: `http://127.0.0.1:${endpointPort}` }),
  });
  if (!registered.ok)
    throw new Error(`registering the deployment: HTTP ${registered.status} ${await registered.text()}`);

  const client = clients.connect({ url: ingressUrl }).serviceClient(bench);
  return {
    versions: {
      'restate-server': installedVersion('@restatedev/restate-server-linux-x64'),
      '@restatedev/restate-sdk': installedVersion('@restatedev/restate-sdk'),
    },
    sequence: async (steps) => await client.sequence(steps),
    fanOut: async (width) => await client.fanOut(width),
    async many(runs, steps) {
      const outputs = await Promise.all(range(runs).map(() => client.fiveSteps(steps)));
      if (outputs.some((o) => o !== steps)) throw new Error('a five-step run returned the wrong count');
    },
    async agent(runs, calls, modelUrl) {
      const outputs = await Promise.all(range(runs).map(() => client.agent({ url: modelUrl, calls })));
      if (outputs.some((o) => o !== calls)) throw new Error('an agent run returned the wrong count');
    },
    async stop() {
      server.kill('SIGTERM');
      await exited;
    },
  };
};
