import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import type { WorkflowList } from '../../shared/operatorTypes.js';
import type { WorkflowCatalog } from '../../shared/workflows.js';

/** `GET /api/operator/workflows`: the workflows this app knows (name and version), for the list's filter. */
export function createListWorkflows(deps: { readonly workflows: WorkflowCatalog }): HttpHandler {
  return (): Promise<HttpResponseInit> => {
    const workflows: WorkflowList['workflows'] = deps.workflows
      .names()
      .sort((a, b) => a.localeCompare(b))
      .flatMap((name) => {
        const definition = deps.workflows.get(name);
        return definition ? [{ name, version: definition.version }] : [];
      });
    return Promise.resolve({ status: 200, jsonBody: { workflows } satisfies WorkflowList });
  };
}
