/**
 * What every settings section shares: the environment's shape, blank-as-unset, the one error type that
 * lists every problem, and the zod reader that turns schema issues into problems naming the setting.
 */
import { z } from 'zod';

/** App settings as the host hands them over (`process.env`, or "Values" in local.settings.json). */
export type Env = Readonly<Record<string, string | undefined>>;

/** A setting's trimmed value, or undefined when it is unset or blank (blank counts as unset everywhere). */
export const blank = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
};

/** One error for every bad or missing setting, each problem naming its setting; never a secret's value. */
export class ConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    heading = 'Invalid configuration',
    advice = 'Fix these app settings (locally: "Values" in local.settings.json, or the environment).',
  ) {
    super(`${heading}:\n${problems.map((p) => `  - ${p}`).join('\n')}\n${advice}`);
    this.name = new.target.name;
  }
}

/** A whole-number app setting within bounds, with messages that name the setting. */
export const intSetting = (name: string, min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number between ${min} and ${max}` })
    .int({ error: `${name} must be a whole number between ${min} and ${max}` })
    .min(min, { error: `${name} must be at least ${min}` })
    .max(max, { error: `${name} must be at most ${max}` })
    .default(fallback);

type Section = z.ZodObject<Record<string, z.ZodType>>;

/**
 * Reads one section's fixed settings with its zod schema: only the keys the schema names, blank values
 * dropped so defaults apply. Each issue becomes a problem that names the setting (zod's own message gets
 * the name prefixed when it lacks it) and shows the value, except for `secretKeys`.
 */
export function readSection<S extends Section>(
  schema: S,
  env: Env,
  secretKeys: ReadonlySet<string> = new Set(),
): { readonly data: z.infer<S> | undefined; readonly problems: string[] } {
  const present = Object.fromEntries(
    Object.keys(schema.shape).flatMap((key) => {
      const value = blank(env[key]);
      return value === undefined ? [] : [[key, value]];
    }),
  );
  const parsed = schema.safeParse(present);
  if (parsed.success) return { data: parsed.data, problems: [] };
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const message = issue.message.includes(key) ? issue.message : `${key}: ${issue.message}`;
    if (secretKeys.has(key)) return message;
    return present[key] === undefined
      ? `${message} (not set)`
      : `${message} (got ${JSON.stringify(present[key])})`;
  });
  return { data: undefined, problems };
}
