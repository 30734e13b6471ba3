import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyHostJsonOverrides, readHostConfig } from '../../devhost/hostConfig.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function appWith(hostJson: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'host-config-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'host.json'), JSON.stringify(hostJson));
  return dir;
}

const base = {
  version: '2.0',
  extensions: { durableTask: { hubName: 'FromHostJson', maxConcurrentActivityFunctions: 16 } },
};

describe('host.json app-setting overrides (AzureFunctionsJobHost__)', () => {
  it('overrides nested values case-insensitively and keeps number types', () => {
    const config = readHostConfig(appWith(base), 2, {
      AzureFunctionsJobHost__extensions__durableTask__hubName: 'SlotHub',
      azurefunctionsjobhost__Extensions__DurableTask__MaxConcurrentActivityFunctions: '4',
      AzureFunctionsJobHost__extensions__http__routePrefix: 'v1',
    });
    expect(config.taskHubName).toBe('SlotHub');
    expect(config.maxConcurrentActivityFunctions).toBe(4);
    expect(config.routePrefix).toBe('v1');
  });

  it('validates overridden values like host.json values, naming the field', () => {
    expect(() =>
      readHostConfig(appWith(base), 2, {
        AzureFunctionsJobHost__extensions__durableTask__maxConcurrentActivityFunctions: 'many',
      }),
    ).toThrow(/extensions\.durableTask\.maxConcurrentActivityFunctions/);
  });

  it('adds sections host.json lacks, such as a storage provider choice', () => {
    const merged = applyHostJsonOverrides(structuredClone(base), {
      AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged',
      UNRELATED: 'x',
    }) as { extensions: { durableTask: Record<string, unknown> } };
    expect(merged.extensions.durableTask.storageProvider).toEqual({ type: 'azureManaged' });
    expect(Object.keys(merged)).toEqual(['version', 'extensions']);
  });
});

describe('hubName from an app setting (%SETTING%)', () => {
  const withReference = { version: '2.0', extensions: { durableTask: { hubName: '%TASKHUB_NAME%' } } };

  it('resolves a whole %SETTING% reference from the app settings', () => {
    expect(readHostConfig(appWith(withReference), 2, { TASKHUB_NAME: 'ProdHub' }).taskHubName).toBe(
      'ProdHub',
    );
  });

  it('refuses an unset setting, naming it', () => {
    expect(() => readHostConfig(appWith(withReference), 2, {})).toThrow(
      /hubName is "%TASKHUB_NAME%", but the app setting TASKHUB_NAME is not set/,
    );
  });

  it('refuses a setting value that is no task hub name', () => {
    expect(() => readHostConfig(appWith(withReference), 2, { TASKHUB_NAME: 'my-hub' })).toThrow(
      /TASKHUB_NAME \(hubName\) is "my-hub": 3-50 letters or digits/,
    );
  });

  it('refuses a partial reference', () => {
    const partial = { version: '2.0', extensions: { durableTask: { hubName: 'Hub%SLOT%' } } };
    expect(() => readHostConfig(appWith(partial), 2, { SLOT: 'a' })).toThrow(/hubName: 3-50 letters/);
  });
});

describe("the app's own host.json", () => {
  const appDir = path.resolve(__dirname, '../..');

  it('keeps successful requests: no Host.Results filter', () => {
    const raw = readHostConfig(appDir, 2, {}).raw as { logging?: { logLevel?: Record<string, string> } };
    expect(Object.keys(raw.logging?.logLevel ?? {})).not.toContain('Host.Results');
  });

  it('takes the task hub from the app setting Azure sets, the host.json name otherwise', () => {
    expect(readHostConfig(appDir, 2, {}).taskHubName).toBe('DurableAgentsHub');
    expect(
      readHostConfig(appDir, 2, { AzureFunctionsJobHost__extensions__durableTask__hubName: 'DaStaging' })
        .taskHubName,
    ).toBe('DaStaging');
  });
});

describe('telemetryMode', () => {
  it('accepts the host’s two modes in any case', () => {
    for (const telemetryMode of ['OpenTelemetry', 'openTelemetry', 'ApplicationInsights']) {
      expect(readHostConfig(appWith({ ...base, telemetryMode }), 2, {}).raw.telemetryMode).toBe(
        telemetryMode,
      );
    }
  });

  it('refuses any other value, naming the field and the modes', () => {
    expect(() => readHostConfig(appWith({ ...base, telemetryMode: 'OTLP' }), 2, {})).toThrow(
      /telemetryMode: telemetryMode must be "ApplicationInsights" or "OpenTelemetry"/,
    );
  });
});
