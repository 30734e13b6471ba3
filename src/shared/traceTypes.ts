import { z } from 'zod';

/**
 * A W3C trace context header: version 00, 32 hex trace id, 16 hex parent id, 2 hex flags, none all zero
 * (https://www.w3.org/TR/trace-context/#traceparent-header-field-values).
 */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The run's trace, carried in orchestration and activity inputs so each run is one trace
 * (src/telemetry/README.md). The starter sets `traceparent`/`tracestate`; the top-level run adds its id
 * and workflow, which child runs, agent loops and activities inherit unchanged. Plain data only, so an
 * orchestrator passes it on without reading clocks or randomness; absent when tracing is off.
 */
export const RunTrace = z.strictObject({
  traceparent: z.string().regex(TRACEPARENT, {
    error: 'traceparent must be a W3C trace context header: 00-<32 hex>-<16 hex>-<2 hex>',
  }),
  tracestate: z.string().max(512).optional(),
  /** The top-level run's instance id. */
  runId: z.string().min(1).optional(),
  /** The top-level run's workflow name. */
  workflow: z.string().min(1).optional(),
});
export type RunTrace = z.infer<typeof RunTrace>;
