import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readHostConfig } from '../../devhost/hostConfig.js';
import { compareVersions, versionVerdict, type VersioningOptions } from '../../devhost/durable/versioning.js';
import { openEngine, started, waitForStatus, type EngineHandle } from './engineHarness.js';

/**
 * Orchestration versioning as the Durable extension applies it: host.json `defaultVersion` stamps new
 * instances and sub-orchestrations, continueAsNew keeps the version, and `versionMatchStrategy` /
 * `versionFailureStrategy` decide what a worker does with an instance of another version.
 */

const dirs: string[] = [];
const handles: EngineHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function appWith(durableTask: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'versioning-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'host.json'), JSON.stringify({ version: '2.0', extensions: { durableTask } }));
  return dir;
}

describe('compareVersions (DurableTask.Core VersioningSettings.CompareVersions)', () => {
  // Worked by hand from the rules: blank < defined; System.Version when both parse (2–4 numeric parts,
  // missing parts are -1); otherwise ordinal string comparison ignoring case.
  it.each([
    ['', '', 0],
    [undefined, '  ', 0],
    ['', '1.0', -1],
    ['1.0', '', 1],
    ['1.0', '1.0', 0],
    ['1.0', '1.0.0', -1],
    ['2.0', '10.0', -1],
    ['1.2.3.4', '1.2.3.5', -1],
    [' 2 . 1', '2.1', 0],
    ['2', '10', 1], // single components do not parse as System.Version: compared as text
    ['v1.0-release', 'V1.0-RELEASE', 0],
    ['2025-01-01', '2025-02-01', -1],
  ] as const)('compare(%j, %j) is %d', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });

  it('decides run, reject or fail per strategy', () => {
    const at = (o: Partial<VersioningOptions>): VersioningOptions => ({
      defaultVersion: '2.0',
      matchStrategy: 'CurrentOrOlder',
      failureStrategy: 'Reject',
      ...o,
    });
    expect(versionVerdict('', at({}))).toBe('run');
    expect(versionVerdict('1.0', at({}))).toBe('run');
    expect(versionVerdict('2.0', at({}))).toBe('run');
    expect(versionVerdict('2.1', at({}))).toBe('reject');
    expect(versionVerdict('2.1', at({ failureStrategy: 'Fail' }))).toBe('fail');
    expect(versionVerdict('1.0', at({ matchStrategy: 'Strict' }))).toBe('reject');
    expect(versionVerdict('', at({ matchStrategy: 'Strict' }))).toBe('reject');
    expect(versionVerdict('2.0', at({ matchStrategy: 'Strict' }))).toBe('run');
    expect(versionVerdict('9.0', at({ matchStrategy: 'None' }))).toBe('run');
  });
});

describe('host.json versioning options', () => {
  it('reads defaultVersion and the strategies, ignoring case as .NET configuration does', () => {
    const config = readHostConfig(
      appWith({ defaultVersion: '2.0', versionMatchStrategy: 'strict', versionFailureStrategy: 'FAIL' }),
      2,
      {},
    );
    expect(config.versioning).toEqual({
      defaultVersion: '2.0',
      matchStrategy: 'Strict',
      failureStrategy: 'Fail',
    });
  });

  it('defaults to CurrentOrOlder and Reject once a defaultVersion is set', () => {
    expect(readHostConfig(appWith({ defaultVersion: '1.0' }), 2, {}).versioning).toEqual({
      defaultVersion: '1.0',
      matchStrategy: 'CurrentOrOlder',
      failureStrategy: 'Reject',
    });
  });

  it('treats "defaultVersion": null as not set', () => {
    expect(readHostConfig(appWith({ defaultVersion: null }), 2, {}).versioning).toEqual({
      matchStrategy: 'None',
      failureStrategy: 'Reject',
    });
  });

  it('takes the AzureFunctionsJobHost__ override of defaultVersion', () => {
    const config = readHostConfig(appWith({ defaultVersion: '1.0' }), 2, {
      AzureFunctionsJobHost__extensions__durableTask__defaultVersion: '3.0',
    });
    expect(config.versioning.defaultVersion).toBe('3.0');
  });

  it('refuses an unknown strategy, naming the option and the choices', () => {
    expect(() => readHostConfig(appWith({ versionMatchStrategy: 'Newest' }), 2, {})).toThrow(
      /extensions\.durableTask\.versionMatchStrategy: versionMatchStrategy must be one of None, Strict, CurrentOrOlder; got "Newest"/,
    );
  });

  it('treats an empty defaultVersion, as from an app setting override, as not set', () => {
    const config = readHostConfig(appWith({ defaultVersion: '2.0' }), 2, {
      AzureFunctionsJobHost__extensions__durableTask__defaultVersion: '',
    });
    expect(config.versioning).toEqual({ matchStrategy: 'None', failureStrategy: 'Reject' });
  });
});

/** The stored history (event types as numbers: 0 ExecutionStarted, 1 ExecutionCompleted, 12/13 episode). */
function storedEvents(h: EngineHandle, id: string): Record<string, unknown>[] {
  return h.engine.store.q.history.all(id).map((r) => JSON.parse(r.event) as Record<string, unknown>);
}

async function engine(versioning?: VersioningOptions): Promise<EngineHandle> {
  const h = await openEngine(versioning ? { versioning } : {});
  handles.push(h);
  return h;
}

const V2: VersioningOptions = {
  defaultVersion: '2.0',
  matchStrategy: 'CurrentOrOlder',
  failureStrategy: 'Reject',
};

describe('the engine applies versioning', () => {
  it('stamps new instances and sub-orchestrations with defaultVersion; continueAsNew keeps it', async () => {
    const h = await engine(V2);
    const id = started(h.engine.start({ orchestratorName: 'versionTree', input: { childVersion: '1.5' } }));
    await waitForStatus(h.engine, id, 'Completed');
    expect(h.engine.getStatus(id)?.output).toEqual({ own: '2.0', inherited: '2.0', explicit: '1.5' });
    expect(storedEvents(h, `${id}-a`).find((e) => e.EventType === 0)).toMatchObject({ Version: '2.0' });
    expect(storedEvents(h, id).find((e) => e.EventType === 0)).toMatchObject({ Version: '2.0' });
  });

  it('gives an explicit start version precedence, and stamps nothing without a defaultVersion', async () => {
    const h = await engine(V2);
    const id = started(h.engine.start({ orchestratorName: 'versionOf', version: '1.0' }));
    await waitForStatus(h.engine, id, 'Completed');
    expect(h.engine.getStatus(id)?.output).toBe('1.0');

    const plain = await engine();
    const unversioned = started(plain.engine.start({ orchestratorName: 'versionOf' }));
    await waitForStatus(plain.engine, unversioned, 'Completed');
    expect(plain.engine.getStatus(unversioned)?.output).toBe('');
  });

  it('Reject leaves a newer instance waiting until a worker of its version runs it', async () => {
    const h = await engine(V2);
    const id = started(h.engine.start({ orchestratorName: 'versionOf', version: '3.0' }));
    await new Promise((r) => setTimeout(r, 150));
    expect(h.engine.getStatus(id)?.runtimeStatus).toBe('Pending');
    expect(h.lines.join('\n')).toContain(
      `versionOf (${id}) left waiting: its version '3.0' does not match this worker's defaultVersion '2.0' (CurrentOrOlder).`,
    );
    const upgraded = await h.reopen({ versioning: { ...V2, defaultVersion: '3.0' } });
    handles.splice(handles.indexOf(h), 1, upgraded);
    await waitForStatus(upgraded.engine, id, 'Completed');
    expect(upgraded.engine.getStatus(id)?.output).toBe('3.0');
  });

  it('runs unversioned (older) instances under CurrentOrOlder', async () => {
    const h = await engine(V2);
    const older = started(h.engine.start({ orchestratorName: 'versionOf', version: '' }));
    await waitForStatus(h.engine, older, 'Completed');
    expect(h.engine.getStatus(older)?.output).toBe('');
  });

  it('Fail fails a mismatched instance without running it, with the VersionMismatch details', async () => {
    const h = await engine({ defaultVersion: '2.0', matchStrategy: 'Strict', failureStrategy: 'Fail' });
    const id = started(h.engine.start({ orchestratorName: 'versionOf', version: '1.0' }));
    await waitForStatus(h.engine, id, 'Failed');
    expect(h.engine.getStatus(id)?.output).toBe(
      'Orchestration version did not comply with Worker Versioning',
    );
    const events = storedEvents(h, id);
    expect(events.map((e) => e.EventType)).toEqual([12, 0, 1, 13]);
    expect(events.find((e) => e.EventType === 1)).toMatchObject({
      OrchestrationStatus: 'Failed',
      FailureDetails: { ErrorType: 'VersionMismatch', IsNonRetriable: true },
    });
  });
});
