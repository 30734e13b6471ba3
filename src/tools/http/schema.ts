/**
 * The shape of an HTTP tool file (`tools/<name>.yaml`): structure only. The loader (loadHttpTools.ts) also
 * checks the templates, the input schema and the auth setting, each error with file, line and column;
 * `schemas/tool.schema.json` is generated from these schemas for editors (`npm run schemas`).
 */
import { z } from 'zod';

/** Names every model provider accepts for a tool (Claude and OpenAI: `^[a-zA-Z0-9_-]{1,64}$`). */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** RFC 9110 `token`: what a header field name may contain. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const whole = (name: string, min: number, max: number) =>
  z
    .number({ error: `${name} must be a whole number` })
    .int({ error: `${name} must be a whole number` })
    .min(min, { error: `${name} must be at least ${min}` })
    .max(max, { error: `${name} must be at most ${max}` });

export const HttpToolLimits = z.strictObject({
  /** The whole call: DNS, connect, request and response body. */
  timeoutMs: whole('timeoutMs', 100, 120_000).default(10_000),
  /** Largest response body read; a longer one is an `output_too_large` error, not a cut JSON document. */
  maxResponseBytes: whole('maxResponseBytes', 1, 52_428_800).default(1_048_576),
  /** Text handed to the model (a step's `toolLimits.maxOutputBytes` can only lower it). */
  maxOutputBytes: whole('maxOutputBytes', 256, 1_048_576).default(16_384),
});
export type HttpToolLimits = z.infer<typeof HttpToolLimits>;

export const ManagedIdentityAuth = z.strictObject({
  type: z.literal('managed-identity'),
  /** The token's scope, e.g. `api://crm-api/.default`; sent as `Authorization: Bearer <token>`. */
  scope: z.string().min(1, { error: 'scope must not be empty' }),
});

export const KeyAuth = z.strictObject({
  type: z.literal('key'),
  /** The app setting holding the key (on Azure a Key Vault reference arrives as the plain value). */
  setting: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error: 'setting must be an app setting name (letters, digits and "_")',
  }),
  /** The header that carries it. */
  header: z.string().regex(HEADER_NAME, { error: 'header must be an HTTP header name' }),
  /** Written before the key, e.g. "Bearer " (default none). */
  prefix: z.string().default(''),
});

export const HttpToolAuth = z.discriminatedUnion('type', [ManagedIdentityAuth, KeyAuth], {
  error: 'auth.type must be managed-identity or key',
});
export type HttpToolAuth = z.infer<typeof HttpToolAuth>;

/** A JSON value whose strings are templates (`{{ args.x }}`); exactly `{{ expr }}` keeps the value's type. */
export const JsonTemplate: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(JsonTemplate),
    z.record(z.string(), JsonTemplate),
  ]),
);

export const HttpToolDefinition = z.strictObject({
  /** The tool's name as workflows list it and models see it; must match the file name. */
  name: z.string().regex(TOOL_NAME, { error: 'name must be 1-64 letters, digits, "_" or "-"' }),
  /** What the model reads to decide when and how to call the tool. */
  description: z.string().min(1, { error: 'description must not be empty' }),
  /** JSON Schema (draft 2020-12) of the arguments, `type: object` at the top; calls are checked against it. */
  input: z.record(z.string(), z.unknown()),
  method: z.enum(HTTP_METHODS, { error: `method must be one of ${HTTP_METHODS.join(', ')}` }).default('GET'),
  /** http(s) URL; its scheme, host and port are literal, and each `{{ }}` value is URL-encoded. */
  url: z.string().min(1, { error: 'url must not be empty' }),
  /** Header templates; `{{ args.x }}` and `{{ call.runId }}` (also `stepId`, `toolUseId`) may appear. */
  headers: z.record(z.string(), z.string()).default({}),
  /** JSON body template (not with GET or DELETE); sent as application/json. */
  body: JsonTemplate.optional(),
  auth: HttpToolAuth.optional(),
  limits: HttpToolLimits.default(HttpToolLimits.parse({})),
  /** CEL over `response` (the JSON body, or its text) and `status`: what the model gets back. */
  extract: z.string().min(1, { error: 'extract must not be empty' }).optional(),
});
export type HttpToolDefinition = z.infer<typeof HttpToolDefinition>;

/** Keys each part of a tool file may have, for "unknown key" hints. */
export const HTTP_TOOL_KEYS = {
  tool: Object.keys(HttpToolDefinition.shape),
  limits: Object.keys(HttpToolLimits.shape),
} as const;
