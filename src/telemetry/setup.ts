/**
 * Turns tracing on from the standard settings, once per process (src/telemetry/README.md):
 * - OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, over
 *   `http/protobuf` (the default) or `http/json` (`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`); the exporter
 *   reads its endpoint, headers, timeout and compression from the environment itself, and the
 *   BatchSpanProcessor its `OTEL_BSP_*` settings (@opentelemetry/otlp-exporter-base
 *   build/src/configuration/otlp-node-http-env-configuration.js, @opentelemetry/sdk-trace-base
 *   build/src/BatchSpanProcessor-shim.js);
 * - Azure Monitor when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set (@azure/monitor-opentelemetry),
 *   with OTLP as an extra span processor when both are set.
 * With neither, nothing is loaded or registered and @opentelemetry/api stays a no-op.
 *
 * The SDK modules are loaded on demand (createRequire), so an app without tracing never loads them.
 */
import { createRequire } from 'node:module';
import { trace, type TracerProvider } from '@opentelemetry/api';
import type * as AzureMonitor from '@azure/monitor-opentelemetry';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as OtlpProto from '@opentelemetry/exporter-trace-otlp-proto';
import type * as Resources from '@opentelemetry/resources';
import type * as TraceBase from '@opentelemetry/sdk-trace-base';
import type * as TraceNode from '@opentelemetry/sdk-trace-node';
import { createCredential } from '../azure/credentials.js';
import type { OtlpProtocol, TelemetrySettings } from '../config/telemetry.js';
import { RunAttributesProcessor } from './runContext.js';

export interface Telemetry {
  /** Whether spans are exported (false: the API's no-op). */
  readonly enabled: boolean;
  /** One line for the startup log. */
  readonly description: string;
  /** Exports what is buffered and stops; for the worker's appTerminate hook. */
  shutdown(): Promise<void>;
}

let started: Telemetry | undefined;
const load = createRequire(__filename);

/** Where the traces go, for the startup log (no secrets: the connection string is not printed). */
function describe(settings: TelemetrySettings): string {
  const targets = [
    ...(settings.otlp ? [`OTLP (${settings.otlp.protocol})`] : []),
    ...(settings.azureMonitor ? ['Azure Monitor'] : []),
  ];
  return targets.length === 0 ? 'tracing off' : `tracing to ${targets.join(' and ')}`;
}

function otlpProcessor(protocol: OtlpProtocol): TraceBase.SpanProcessor {
  const { BatchSpanProcessor } = load('@opentelemetry/sdk-trace-base') as typeof TraceBase;
  const { OTLPTraceExporter } =
    protocol === 'http/json'
      ? (load('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp)
      : (load('@opentelemetry/exporter-trace-otlp-proto') as typeof OtlpProto);
  return new BatchSpanProcessor(new OTLPTraceExporter());
}

function resource(): Resources.Resource {
  const { defaultResource, detectResources, envDetector, resourceFromAttributes } = load(
    '@opentelemetry/resources',
  ) as typeof Resources;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over the app's name.
  return defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'durable-agents' }))
    .merge(detectResources({ detectors: [envDetector] }));
}

/**
 * Registers the tracer provider the settings ask for, once per process (later calls return the first
 * result). Call it before any span is made: src/index.ts does, as the app loads.
 */
export function startTelemetry(settings: TelemetrySettings): Telemetry {
  if (started) return started;
  const exporting = settings.otlp ? [otlpProcessor(settings.otlp.protocol)] : [];
  // First, so exporters see the run's attributes on every span.
  const processors = [new RunAttributesProcessor(), ...exporting];
  let shutdown: () => Promise<void> = async () => {};
  if (settings.azureMonitor) {
    const monitor = load('@azure/monitor-opentelemetry') as typeof AzureMonitor;
    const { entra } = settings.azureMonitor;
    monitor.useAzureMonitor({
      azureMonitorExporterOptions: {
        connectionString: settings.azureMonitor.connectionString,
        ...(entra === undefined
          ? {}
          : {
              credential: createCredential(
                entra.clientId === undefined
                  ? { kind: 'managed-identity' }
                  : { kind: 'managed-identity', clientId: entra.clientId },
              ),
            }),
      },
      resource: resource(),
      spanProcessors: processors,
      // The app makes its own spans; the SDKs' HTTP and Azure SDK spans would bury them.
      instrumentationOptions: { http: { enabled: false }, azureSdk: { enabled: false } },
      enableLiveMetrics: false,
    });
    shutdown = () => monitor.shutdownAzureMonitor();
  } else if (exporting.length > 0) {
    const { NodeTracerProvider } = load('@opentelemetry/sdk-trace-node') as typeof TraceNode;
    const provider = new NodeTracerProvider({ resource: resource(), spanProcessors: processors });
    // Sets the global provider, the AsyncLocalStorage context manager and the W3C propagators.
    provider.register();
    shutdown = () => provider.shutdown();
  }
  started = {
    enabled: settings.otlp !== undefined || settings.azureMonitor !== undefined,
    description: describe(settings),
    shutdown,
  };
  return started;
}

interface Flushable {
  forceFlush(): Promise<void>;
}

/** The SDK provider behind the API's global proxy, when one is registered and can flush. */
function flushable(provider: TracerProvider): Flushable | undefined {
  const delegate = (provider as { getDelegate?: () => TracerProvider }).getDelegate?.() ?? provider;
  return typeof (delegate as Partial<Flushable>).forceFlush === 'function'
    ? (delegate as unknown as Flushable)
    : undefined;
}

/** Sends the buffered spans now (no-op without an SDK); export failures are the SDK's to log. */
export async function flushSpans(): Promise<void> {
  try {
    await flushable(trace.getTracerProvider())?.forceFlush();
  } catch {
    // The exporter reports its own failures through the OTel diagnostic logger; a run never fails on them.
  }
}
