import { Names, toolActivityName } from '../../src/shared/names.js';

/** What one Node binary registered from the unpacked zip: function name → trigger type. */
export interface LoadReport {
  readonly node: string;
  readonly functions: Record<string, string>;
}

/** Problems with one binary's report, against the names the code declares and the reference load. */
export function compareReports(report: LoadReport, reference: LoadReport): string[] {
  const problems: string[] = [];
  const registered = Object.keys(report.functions);
  const declared = [Names.orchestrators, Names.activities, Names.http, Names.queues].flatMap((group) =>
    Object.values(group),
  );
  const toolPrefix = toolActivityName('');
  for (const name of declared) {
    if (!registered.includes(name)) problems.push(`${name} (src/shared/names.ts) is not registered`);
  }
  for (const name of registered) {
    if (!(declared as string[]).includes(name) && !name.startsWith(toolPrefix)) {
      problems.push(`${name} is registered but is neither in src/shared/names.ts nor a tool activity`);
    }
  }
  const all = new Set([...registered, ...Object.keys(reference.functions)]);
  for (const name of all) {
    const got = report.functions[name];
    const want = reference.functions[name];
    if (got !== want) {
      problems.push(`${name}: ${got ?? 'missing'} here, ${want ?? 'missing'} on ${reference.node}`);
    }
  }
  return problems;
}
