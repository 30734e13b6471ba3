import { describe, expect, it } from 'vitest';
import { compareReports, type LoadReport } from '../../scripts/lib/packageCheck.js';
import { Names } from '../../src/shared/names.js';

/** Every function src/shared/names.ts declares, with plausible trigger types, plus one tool. */
function fullReport(node: string): LoadReport {
  const functions: Record<string, string> = {};
  for (const name of Object.values(Names.orchestrators)) functions[name] = 'orchestrationTrigger';
  for (const name of Object.values(Names.activities)) functions[name] = 'activityTrigger';
  for (const name of Object.values(Names.http)) functions[name] = 'httpTrigger';
  for (const name of Object.values(Names.queues)) functions[name] = 'queueTrigger';
  functions.tool_fetch_url = 'activityTrigger';
  return { node, functions };
}

describe('packed-app check (scripts/checkPackage.ts)', () => {
  const reference = fullReport('v20.0.0');

  it('accepts a binary that registers what the reference does', () => {
    expect(compareReports(fullReport('v22.0.0'), reference)).toEqual([]);
  });

  it('names a declared function that is missing', () => {
    const report = fullReport('v22.0.0');
    delete report.functions[Names.http.getRun];
    expect(compareReports(report, reference)).toEqual([
      'getRun (src/shared/names.ts) is not registered',
      'getRun: missing here, httpTrigger on v20.0.0',
    ]);
  });

  it('refuses a function that is neither declared nor a tool, and a changed trigger', () => {
    const report = fullReport('v24.0.0');
    report.functions.stray = 'timerTrigger';
    report.functions[Names.queues.workflowRequests] = 'httpTrigger';
    expect(compareReports(report, reference)).toEqual([
      'stray is registered but is neither in src/shared/names.ts nor a tool activity',
      'workflowRequests: httpTrigger here, queueTrigger on v20.0.0',
      'stray: timerTrigger here, missing on v20.0.0',
    ]);
  });
});
