/**
 * `MCP_SERVERS`: the remote MCP servers (streamable HTTP) whose tools agent steps may use, as JSON:
 *
 *     { "crm": { "url": "https://crm.example/mcp", "auth": { "type": "managed-identity", "scope": "api://crm/.default" } },
 *       "tickets": { "url": "https://t.example/mcp", "headers": { "x-tenant": "acme" },
 *                    "auth": { "type": "key", "setting": "<app setting with the key>" } } }
 *
 * Server names are the tools' prefix (`crm__lookup_customer`), so they hold no `_`: the first `__` of a tool
 * name always ends the server name.
 */
import { z } from 'zod';
import { Secret } from '../models/secret.js';
import { ConfigError, type Env } from './section.js';

/** Letters, digits and `-`, at most 30, so `<server>__<tool>` leaves room for the tool in 64 characters. */
export const MCP_SERVER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,29})$/;
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Header names (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const positive = (what: string, max: number) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be a whole number` })
    .min(1, { error: `${what} must be at least 1` })
    .max(max, { error: `${what} must be at most ${max}` });

const Auth = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      /** An Entra ID token for `scope` from the app's managed identity (AZURE_CLIENT_ID), as `Authorization: Bearer`. */
      type: z.literal('managed-identity'),
      scope: z.string().min(1, { error: 'scope must not be empty' }),
    }),
    z.strictObject({
      /** A key from another app setting (a Key Vault reference on Azure): `Authorization: Bearer <key>` or `header: <key>`. */
      type: z.literal('key'),
      setting: z.string().regex(SETTING_NAME, { error: 'setting must name an app setting' }),
      header: z.string().regex(HEADER_NAME, { error: 'header must be an HTTP header name' }).optional(),
    }),
  ],
  { error: 'auth.type must be "managed-identity" or "key"' },
);

const Server = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL' }),
  headers: z
    .record(z.string().regex(HEADER_NAME, { error: 'header names must be HTTP header names' }), z.string())
    .optional(),
  auth: Auth.optional(),
  /** Per call: how long to wait for the server's answer (default 30 s). */
  timeoutMs: positive('timeoutMs', 600_000).optional(),
  /** Per call: the largest response body read (default 1 MiB) and the text the model gets (default 64 KiB). */
  maxResponseBytes: positive('maxResponseBytes', 16 * 1024 * 1024).optional(),
  maxOutputBytes: positive('maxOutputBytes', 1024 * 1024).optional(),
});

export const McpServersSetting = z.record(z.string(), Server, {
  error: 'MCP_SERVERS must be a JSON object of server name → { url, headers?, auth? }',
});

const BAD_NAME = 'server names are 1-30 letters, digits or "-" (no "_": "__" separates server and tool)';

export type McpAuth =
  | { readonly type: 'managed-identity'; readonly scope: string }
  | { readonly type: 'key'; readonly header: string; readonly key: Secret };

export interface McpServerConfig {
  readonly name: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly auth?: McpAuth;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly maxOutputBytes: number;
}

export const MCP_DEFAULTS = { timeoutMs: 30_000, maxResponseBytes: 1024 * 1024, maxOutputBytes: 64 * 1024 };

export class McpConfigError extends ConfigError {
  constructor(problems: readonly string[]) {
    super(problems, 'Invalid MCP_SERVERS', 'See README.md "MCP servers as tools".');
  }
}

/** Parses `MCP_SERVERS` (unset or blank: no servers); every problem is listed with its path. */
export function parseMcpServers(env: Env): McpServerConfig[] {
  const raw = env.MCP_SERVERS?.trim();
  if (!raw) return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new McpConfigError([`MCP_SERVERS must be JSON: ${(error as Error).message}`]);
  }
  const parsed = McpServersSetting.safeParse(json);
  const problems: string[] = [];
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    for (const name of Object.keys(json)) {
      if (!MCP_SERVER_NAME.test(name)) problems.push(`MCP_SERVERS.${name}: ${BAD_NAME}`);
    }
  }
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((issue) => {
        const where = issue.path.length > 0 ? `MCP_SERVERS.${issue.path.join('.')}` : 'MCP_SERVERS';
        return `${where}: ${issue.message}`;
      }),
    );
  }
  if (!parsed.success || problems.length > 0) throw new McpConfigError(problems);
  const servers = Object.entries(parsed.data).map(([name, server]): McpServerConfig => {
    let auth: McpAuth | undefined;
    if (server.auth?.type === 'managed-identity') auth = server.auth;
    else if (server.auth?.type === 'key') {
      const key = env[server.auth.setting]?.trim();
      if (!key) problems.push(`MCP_SERVERS.${name}.auth: the app setting ${server.auth.setting} is not set`);
      auth = { type: 'key', header: server.auth.header ?? 'authorization', key: new Secret(key ?? '') };
    }
    return {
      name,
      url: new URL(server.url),
      headers: server.headers ?? {},
      ...(auth ? { auth } : {}),
      timeoutMs: server.timeoutMs ?? MCP_DEFAULTS.timeoutMs,
      maxResponseBytes: server.maxResponseBytes ?? MCP_DEFAULTS.maxResponseBytes,
      maxOutputBytes: server.maxOutputBytes ?? MCP_DEFAULTS.maxOutputBytes,
    };
  });
  if (problems.length > 0) throw new McpConfigError(problems);
  return servers;
}
