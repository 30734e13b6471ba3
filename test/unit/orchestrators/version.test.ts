import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { OrchestrationContext } from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { compareVersions as hostCompare } from '../../../devhost/durable/versioning.js';
import { atLeast, compareVersions, ORCHESTRATION_VERSIONS } from '../../../src/orchestrators/version.js';

const at = (version: string | undefined) => ({ df: { version } }) as unknown as OrchestrationContext;

describe('orchestration version gates', () => {
  it('treats instances started before versioning as older than every version', () => {
    expect(atLeast(at(undefined), '2.0')).toBe(false);
    expect(atLeast(at(''), '2.0')).toBe(false);
    expect(atLeast(at('1.0'), '2.0')).toBe(false);
    expect(atLeast(at('2.0'), '2.0')).toBe(true);
    expect(atLeast(at('2.0.1'), '2.0')).toBe(true);
    expect(atLeast(at('10.0'), '2.0')).toBe(true); // numeric, not text: "10.0" > "2.0"
  });

  // The worker's versionMatchStrategy (devhost/durable/versioning.ts, after DurableTask.Core) and the
  // orchestrators' gate must order versions the same way, or an instance the worker accepts could take
  // the wrong branch.
  const samples = [
    '',
    ' ',
    '1',
    '2',
    '10',
    '1.0',
    '1.0.0',
    '2.0',
    '2.1',
    '10.0',
    '1.2.3.4',
    '+2.0',
    'v2',
    'V2',
    'beta',
    '2025-01-01',
  ];
  it.each(samples)('orders %j like the host', (a) => {
    for (const b of samples) expect(compareVersions(a, b)).toBe(hostCompare(a, b));
  });

  it("sets host.json's defaultVersion to the newest gated change, so new runs take every new path", () => {
    const hostJson = JSON.parse(readFileSync(path.resolve(__dirname, '../../../host.json'), 'utf8')) as {
      extensions: { durableTask: { defaultVersion?: string } };
    };
    const newest = Object.values(ORCHESTRATION_VERSIONS).reduce((a, b) =>
      compareVersions(a, b) >= 0 ? a : b,
    );
    expect(hostJson.extensions.durableTask.defaultVersion).toBe(newest);
  });
});
