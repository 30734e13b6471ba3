import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventType } from '../../src/replay/history.js';
import { parseRunExport } from '../../src/replay/exportFile.js';
import { replayRunExport } from '../../src/replay/replayRun.js';

/**
 * The CI replay check: histories of the shipped workflows, recorded on devhost by
 * scripts/recordReplayFixtures.ts, replayed against this build's orchestrators. A change that would
 * break runs in flight fails here with the step and history event where the code diverged.
 */
const dir = path.resolve(__dirname, '../fixtures/replay');
const files = readdirSync(dir).filter((file) => file.endsWith('.json'));
const workflows = readdirSync(path.resolve(__dirname, '../../workflows')).filter((f) => f.endsWith('.yaml'));

/**
 * `<workflow>.json`: a run started before versioning; `<workflow>@<version>.json`: a run at that version;
 * `<workflow>+<label>…`: a run that takes a path the sample run does not (e.g. `+callback`).
 */
const FIXTURE_NAME =
  /^(?<workflow>[a-z0-9-]+)(?:\+(?<label>[a-z0-9-]+))?(?:@(?<version>[0-9][0-9.]*))?\.json$/;

describe('replay fixtures of the shipped workflows', () => {
  it('has one unversioned fixture per shipped workflow, and versioned ones only of shipped workflows', () => {
    const unversioned = files.filter((file) => !/[@+]/.test(file));
    expect(unversioned.sort()).toEqual(workflows.map((file) => file.replace(/\.yaml$/, '.json')).sort());
    for (const file of files) {
      const name = FIXTURE_NAME.exec(file)?.groups;
      expect(name, file).toBeDefined();
      expect(workflows).toContain(`${name?.workflow}.yaml`);
    }
  });

  it.each(files)('%s was recorded at the orchestration version its name says', (file) => {
    const exported = parseRunExport(readFileSync(path.join(dir, file), 'utf8'), file);
    const started = exported.instances[0]?.history.events.find(
      (event) => (event as { EventType: unknown }).EventType === EventType.ExecutionStarted,
    ) as { Version?: string } | undefined;
    expect(started?.Version ?? '').toBe(FIXTURE_NAME.exec(file)?.groups?.version ?? '');
  });

  it.each(files)('%s replays against this build without divergence', async (file) => {
    const exported = parseRunExport(readFileSync(path.join(dir, file), 'utf8'), file);
    const result = await replayRunExport(exported);
    expect(result.divergence).toBeUndefined();
    expect(result.notReplayable).toEqual([]);
    expect(result.instances.map((instance) => instance.instanceId)).toEqual(
      exported.instances.map((instance) => instance.instanceId),
    );
    for (const [index, instance] of exported.instances.entries()) {
      const replayed = result.instances[index];
      const episodes = instance.history.events.filter(
        (event) => (event as { EventType: unknown }).EventType === EventType.OrchestratorStarted,
      ).length;
      // Every recorded episode ran, and the last one completed the instance as recorded.
      expect(replayed?.episodes).toBe(episodes);
      expect(replayed?.lastAnswer?.isDone).toBe(true);
      expect(replayed?.lastAnswer?.error).toBeUndefined();
    }
  });

  it.each(files)('%s is small and carries no credentials', (file) => {
    const text = readFileSync(path.join(dir, file), 'utf8');
    expect(statSync(path.join(dir, file)).size).toBeLessThan(200 * 1024);
    for (const pattern of [
      /AccountKey=/i,
      /SharedAccessSignature/i,
      /[?&]sig=/i,
      /Bearer\s+[A-Za-z0-9._-]{8,}/,
      /\bsk-[A-Za-z0-9]{8,}/,
      /-----BEGIN/,
    ])
      expect(text).not.toMatch(pattern);
  });
});
