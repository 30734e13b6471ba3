/**
 * The app's MCP tool source, from `MCP_SERVERS`: the one place its URL check, fetch and credentials are
 * chosen. The URL check is the app's URL policy (src/net) for operator-configured endpoints, so
 * `URL_POLICY_ALLOW_HOSTS` reaches servers on private hosts.
 */
import type { WorkflowCatalog } from '../../shared/workflows.js';
import { toolNamesUsedBy } from '../../functions/runStarter.js';
import type { McpServerConfig } from '../../config/mcp.js';
import type { UrlPolicy } from '../../net/urlPolicy.js';
import {
  createMcpTools,
  mcpServerOf,
  policyUrlCheck,
  type McpServerState,
  type McpTools,
} from './mcpTools.js';

/** `getToken`: the app's identity's bearer tokens by scope (registry.ts `appTokenProvider`, shared). */
export function createAppMcpTools(
  servers: readonly McpServerConfig[],
  urlPolicy: UrlPolicy,
  getToken: (scope: string) => Promise<string>,
): { readonly servers: readonly string[]; readonly tools: McpTools } {
  return {
    servers: servers.map((server) => server.name),
    tools: createMcpTools({ servers, checkUrl: policyUrlCheck(urlPolicy), getToken }),
  };
}

/**
 * What startup logs once the servers answered (or did not): the tools each offers, and for each one that
 * could not be listed a warning naming it, why, and the workflows refused until it answers.
 */
export function describeMcpStates(
  states: ReadonlyMap<string, McpServerState>,
  workflows: WorkflowCatalog,
): { info: string; warning?: string } {
  const info: string[] = [];
  const warnings: string[] = [];
  for (const [server, state] of states) {
    if (state.state === 'ready') {
      const skipped =
        state.skipped.length > 0 ? `; skipped (invalid or duplicate): ${state.skipped.join(', ')}` : '';
      info.push(`MCP server "${server}": ${state.tools.join(', ') || 'no tools'}${skipped}`);
      continue;
    }
    const users = workflows.names().filter((name) => {
      const definition = workflows.get(name);
      return (
        definition !== undefined && toolNamesUsedBy([definition]).some((tool) => mcpServerOf(tool) === server)
      );
    });
    const reason = state.state === 'unreachable' ? state.reason : 'no answer yet';
    warnings.push(
      `WARNING: MCP server "${server}" could not be listed (${reason}). ` +
        (users.length > 0
          ? `Runs of ${users.join(', ')} are refused until it answers.`
          : 'No workflow uses its tools.'),
    );
  }
  return { info: info.join('\n'), ...(warnings.length > 0 ? { warning: warnings.join('\n') } : {}) };
}
