import { z } from 'zod';

const intSetting = (name: string, min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number between ${min} and ${max}` })
    .int({ error: `${name} must be a whole number between ${min} and ${max}` })
    .min(min, { error: `${name} must be at least ${min}` })
    .max(max, { error: `${name} must be at most ${max}` })
    .default(fallback);

const EnvSchema = z.object({
  WORKFLOW_MAX_WAIT_SECONDS: intSetting('WORKFLOW_MAX_WAIT_SECONDS', 0, 230, 60),
  DIGEST_SUMMARY_MAX_WORDS: intSetting('DIGEST_SUMMARY_MAX_WORDS', 5, 200, 40),
});

export interface Config {
  /** Upper bound for `?wait=` on the HTTP starter; Azure's front end drops requests after 230 s. */
  readonly maxWaitSeconds: number;
  /** Longest first-sentence summary `summarizeParagraph` returns, in words. */
  readonly summaryMaxWords: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'Fix these app settings (locally: "Values" in local.settings.json, or the environment).',
    );
    this.name = new.target.name;
  }
}

/** Parses app settings; empty strings count as unset so a blank setting falls back to its default. */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const present = Object.fromEntries(
    Object.keys(EnvSchema.shape).flatMap((key) => {
      const value = env[key]?.trim();
      return value ? [[key, value]] : [];
    }),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = issue.path.join('.');
        return `${issue.message} (got ${JSON.stringify(present[key])})`;
      }),
    );
  }
  return {
    maxWaitSeconds: parsed.data.WORKFLOW_MAX_WAIT_SECONDS,
    summaryMaxWords: parsed.data.DIGEST_SUMMARY_MAX_WORDS,
  };
}

let cached: Config | undefined;

/** Reads the environment once, on first use rather than at import, so a bad setting fails the call that needs it. */
export function getConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
