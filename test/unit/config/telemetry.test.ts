import { describe, expect, it } from 'vitest';
import { readTelemetrySettings } from '../../../src/config/telemetry.js';

describe('readTelemetrySettings', () => {
  it('is off with nothing set', () => {
    expect(readTelemetrySettings({})).toEqual({});
  });

  it('turns OTLP on for either endpoint setting, http/protobuf unless told otherwise', () => {
    expect(readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual({
      otlp: { protocol: 'http/protobuf' },
    });
    expect(
      readTelemetrySettings({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      }),
    ).toEqual({ otlp: { protocol: 'http/json' } });
  });

  it('honours OTEL_TRACES_EXPORTER=none and OTEL_SDK_DISABLED=true', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(readTelemetrySettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toEqual({});
    expect(
      readTelemetrySettings({
        ...endpoint,
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x',
        OTEL_SDK_DISABLED: 'TRUE',
      }),
    ).toEqual({});
  });

  it('exports to Azure Monitor with the managed identity the authentication string names', () => {
    expect(
      readTelemetrySettings({
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=abc;IngestionEndpoint=https://x/',
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=1234-abcd;Authorization=AAD',
      }),
    ).toEqual({
      azureMonitor: {
        connectionString: 'InstrumentationKey=abc;IngestionEndpoint=https://x/',
        entra: { clientId: '1234-abcd' },
      },
    });
    expect(
      readTelemetrySettings({
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=abc',
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD',
      }).azureMonitor?.entra,
    ).toEqual({});
  });

  it('refuses what it cannot honour, naming every setting at once', () => {
    const read = () =>
      readTelemetrySettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'yes',
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization',
      });
    expect(read).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json.*got "grpc"/);
    expect(read).toThrow(/OTEL_TRACES_EXPORTER must be otlp or none.*got "zipkin"/);
    expect(read).toThrow(
      /OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT must be true or false, got "yes"/,
    );
    expect(read).toThrow(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization" is not key=value/);
  });
});
