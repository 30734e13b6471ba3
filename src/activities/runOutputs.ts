/**
 * Reads the outputs of finished `runWorkflow` runs back from the durable store, for activities that need
 * many of them at once (a batch page's results): one listing of the runs by id prefix and creation time,
 * a page of instances per call, and a direct read for any run the listing did not show (a run created
 * on a machine whose clock runs behind, say).
 */
import type { InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { z } from 'zod';
import { createDurableManagement, type DurableManagement } from '../operator/durableManagement.js';

/** Instances per listing call: small enough that reading one answer never holds the worker up for long. */
const LIST_PAGE = 250;
/** Runs read one by one at once, for those the listing missed. */
const DIRECT_READS = 8;

/** The part of a `runWorkflow` result that is the workflow's output. */
const RunOutput = z.object({ output: z.unknown() });

export interface RunOutputsRequest {
  /** Every wanted run id starts with this. */
  readonly instanceIdPrefix: string;
  /** No wanted run was created before this. */
  readonly createdFrom: Date;
  readonly instanceIds: readonly string[];
}

/** The workflow output of each wanted run that completed; runs missing here could not be read. */
export type RunOutputReader = (
  request: RunOutputsRequest,
  context: InvocationContext,
) => Promise<Map<string, unknown>>;

export interface RunOutputReaderDeps {
  readonly getClient: (context: InvocationContext) => DurableClient;
  /** Default: the Durable HTTP management API at the client's local RPC endpoint. */
  readonly management?: (client: DurableClient) => DurableManagement;
}

export function createRunOutputReader(deps: RunOutputReaderDeps): RunOutputReader {
  const managementOf = deps.management ?? createDurableManagement;
  return async function readRunOutputs(request, context) {
    const wanted = new Set(request.instanceIds);
    const outputs = new Map<string, unknown>();
    if (wanted.size === 0) return outputs;
    const client = deps.getClient(context);
    const take = (instanceId: string, output: unknown) => {
      const parsed = RunOutput.safeParse(output);
      if (wanted.delete(instanceId) && parsed.success) outputs.set(instanceId, parsed.data.output ?? null);
    };

    const management = managementOf(client);
    let continuationToken: string | undefined;
    do {
      const page = await management.listInstances({
        instanceIdPrefix: request.instanceIdPrefix,
        createdTimeFrom: request.createdFrom,
        runtimeStatus: ['Completed'],
        top: LIST_PAGE,
        showInput: false,
        ...(continuationToken === undefined ? {} : { continuationToken }),
      });
      for (const instance of page.instances) {
        if (wanted.has(instance.instanceId)) take(instance.instanceId, instance.output);
      }
      continuationToken = page.continuationToken;
    } while (continuationToken !== undefined && wanted.size > 0);

    const missing = [...wanted];
    for (let first = 0; first < missing.length; first += DIRECT_READS) {
      await Promise.all(
        missing.slice(first, first + DIRECT_READS).map(async (instanceId) => {
          // Not client.getStatus: on the RPC path it drops showInput=false and reads each run's input too.
          const status = await management.getInstance(instanceId, { input: false }).catch(() => undefined);
          if (status?.runtimeStatus === 'Completed') take(instanceId, status.output);
        }),
      );
    }
    return outputs;
  };
}
