/**
 * Tracing settings (src/telemetry/README.md has the table): the standard OpenTelemetry variables and
 * Application Insights' connection and authentication strings. The OTLP exporter and the batch span
 * processor read their own endpoint, header, timeout and `OTEL_BSP_*` settings from the environment.
 */
import { ConfigError, blank, type Env } from './section.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TelemetrySettings {
  /** OTLP export, when an endpoint is set. */
  readonly otlp?: { readonly protocol: OtlpProtocol };
  /** Azure Monitor export, when a connection string is set. */
  readonly azureMonitor?: {
    readonly connectionString: string;
    /** From `APPLICATIONINSIGHTS_AUTHENTICATION_STRING=Authorization=AAD[;ClientId=…]`. */
    readonly entra?: { readonly clientId?: string };
  };
}

/**
 * Entra authentication for telemetry, in the form App Service and the Functions host read
 * (`Authorization=AAD;ClientId=<id>`: https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication).
 * The distro reads it only for live metrics (@azure/monitor-opentelemetry
 * dist/commonjs/metrics/quickpulse/credentialUtils.js), so the app hands the exporter the credential.
 */
function parseAuthenticationString(value: string): { clientId?: string } | undefined {
  const pairs = new Map<string, string>();
  for (const pair of value.split(';')) {
    if (pair.trim() === '') continue;
    const [key, item, ...rest] = pair.split('=');
    if (key === undefined || item === undefined || rest.length > 0) {
      throw new Error(`APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "${pair}" is not key=value`);
    }
    pairs.set(key.trim().toLowerCase(), item.trim());
  }
  if (pairs.get('authorization') !== 'AAD') return undefined;
  const clientId = blank(pairs.get('clientid'));
  return clientId === undefined ? {} : { clientId };
}

/** Reads the tracing settings; a value the app cannot honour is an error naming the setting. */
export function readTelemetrySettings(env: Env): TelemetrySettings {
  const problems: string[] = [];
  const capture = blank(env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)?.toLowerCase();
  if (capture !== undefined && capture !== 'true' && capture !== 'false') {
    problems.push(
      `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT must be true or false, got "${capture}"`,
    );
  }
  if (blank(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') {
    if (problems.length > 0) throw new ConfigError(problems);
    return {};
  }
  const exporter = blank(env.OTEL_TRACES_EXPORTER)?.toLowerCase() ?? 'otlp';
  if (exporter !== 'otlp' && exporter !== 'none') {
    problems.push(`OTEL_TRACES_EXPORTER must be otlp or none (this app ships only OTLP), got "${exporter}"`);
  }
  const endpoint = blank(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? blank(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const protocol =
    blank(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ??
    blank(env.OTEL_EXPORTER_OTLP_PROTOCOL) ??
    'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    problems.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (grpc is not shipped), got "${protocol}"`,
    );
  }
  const connectionString = blank(env.APPLICATIONINSIGHTS_CONNECTION_STRING);
  let entra: { clientId?: string } | undefined;
  const authentication = blank(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
  try {
    entra = authentication === undefined ? undefined : parseAuthenticationString(authentication);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...(endpoint !== undefined && exporter === 'otlp'
      ? { otlp: { protocol: protocol as OtlpProtocol } }
      : {}),
    ...(connectionString === undefined
      ? {}
      : { azureMonitor: { connectionString, ...(entra === undefined ? {} : { entra }) } }),
  };
}
