import {
  EffortSetting,
  ProviderKind,
  ReasoningEffort,
  RoleName,
  ThinkingSetting,
} from '../shared/modelTypes.js';
import type { EnvReader } from '../config/envReader.js';

export interface ModelRoute {
  readonly provider: ProviderKind;
  /** The deployment name on Foundry / Azure OpenAI, or the model id elsewhere. */
  readonly deployment: string;
}

export interface RoleConfig {
  readonly route: ModelRoute;
  /** Tried in order by the orchestrator (`attempt` 1, 2, …) when the route keeps failing. */
  readonly fallback: readonly ModelRoute[];
  /**
   * The role's defaults for a call whose step sets none (the step wins): Claude thinking and
   * `output_config.effort` (`MODEL_ROLE_<ROLE>_THINKING` / `_EFFORT`), OpenAI reasoning effort
   * (`MODEL_ROLE_<ROLE>_REASONING_EFFORT`). Each provider ignores the others' settings.
   */
  readonly thinking?: ThinkingSetting;
  readonly effort?: EffortSetting;
  readonly reasoningEffort?: ReasoningEffort;
}

type Family = 'claude' | 'gpt';

const FAMILY_PROVIDERS: Record<Family, readonly ProviderKind[]> = {
  claude: ['foundry', 'anthropic'],
  gpt: ['azure-openai', 'openai'],
};

const FAMILY_SETUP: Record<Family, string> = {
  claude: 'FOUNDRY_RESOURCE (Claude on Foundry) or ANTHROPIC_API_KEY',
  gpt: 'AZURE_OPENAI_ENDPOINT or OPENAI_API_KEY',
};

interface RoleDefault {
  readonly family: Family;
  readonly deployment: string;
  readonly fallback: readonly string[];
}

/**
 * Reviewed 2026-12-07 (src/models/README.md, "Why these defaults"): Opus plans, Haiku does the bulk, GPT
 * writes. Opus 5.5 and Haiku 5.5 are cheaper but think by default (Opus 5.5 always) and Opus 5.5 rejects
 * forced tool use, which the app does not handle yet. Opus 4.1 is retired and Sonnet 4.5 ended 2026-11-30: neither is a default.
 */
export const DEFAULT_ROLES: Readonly<Record<string, RoleDefault>> = {
  planner: { family: 'claude', deployment: 'claude-opus-4-8', fallback: ['writer'] },
  worker: { family: 'claude', deployment: 'claude-haiku-4-5', fallback: [] },
  writer: { family: 'gpt', deployment: 'gpt-5.4', fallback: [] },
};

const ROLE_VAR = /^MODEL_ROLE_([A-Z][A-Z0-9_]*)$/;
const FALLBACK_SUFFIX = '_FALLBACK';
/** Per-role call settings, `MODEL_ROLE_<ROLE><suffix>`; `_REASONING_EFFORT` before `_EFFORT`, which it ends with. */
const CALL_SETTINGS = [
  { suffix: '_THINKING', key: 'thinking', values: ThinkingSetting.options },
  { suffix: '_REASONING_EFFORT', key: 'reasoningEffort', values: ReasoningEffort.options },
  { suffix: '_EFFORT', key: 'effort', values: EffortSetting.options },
] as const;
/** Settings suffixes after `MODEL_ROLE_<ROLE>`, so `MODEL_ROLE_PLANNER_EFFORT` is no role `planner_effort`. */
const SUFFIXES = [FALLBACK_SUFFIX, ...CALL_SETTINGS.map((setting) => setting.suffix)];
const roleOfSetting = (name: string): string | undefined =>
  SUFFIXES.flatMap((suffix) => (name.endsWith(suffix) ? [name.slice(0, -suffix.length)] : []))[0];

/** The role's `_THINKING`, `_EFFORT` and `_REASONING_EFFORT` settings; a bad value is a problem naming the setting. */
function callSettings(
  env: EnvReader,
  role: string,
): Pick<RoleConfig, 'thinking' | 'effort' | 'reasoningEffort'> {
  const settings: { thinking?: ThinkingSetting; effort?: EffortSetting; reasoningEffort?: ReasoningEffort } =
    {};
  for (const { suffix, key, values } of CALL_SETTINGS) {
    const name = `${roleVar(role)}${suffix}`;
    const value = env.text(name)?.toLowerCase();
    if (value === undefined) continue;
    if ((values as readonly string[]).includes(value)) Object.assign(settings, { [key]: value });
    else env.problems.push(`${name} must be one of ${values.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return settings;
}
const ROUTE_SYNTAX = /^([a-z-]+):(\S+)$/;

export const roleVar = (role: string): string => `MODEL_ROLE_${role.toUpperCase()}`;

function parseRoute(
  env: EnvReader,
  setting: string,
  text: string,
  available: ReadonlySet<ProviderKind>,
  offline: boolean,
): ModelRoute | undefined {
  const match = ROUTE_SYNTAX.exec(text);
  const provider = ProviderKind.safeParse(match?.[1]);
  if (!match?.[2] || !provider.success) {
    env.problems.push(
      `${setting} must be <provider>:<deployment> with provider one of ${ProviderKind.options.join(', ')}, ` +
        `e.g. foundry:claude-opus-4-8 (got ${JSON.stringify(text)})`,
    );
    return undefined;
  }
  if (!offline && !available.has(provider.data)) {
    env.problems.push(
      `${setting} uses provider "${provider.data}", which is not configured; configure it (see src/models/README.md) or pick another provider`,
    );
    return undefined;
  }
  return { provider: provider.data, deployment: match[2] };
}

function defaultRoute(
  family: Family,
  deployment: string,
  available: ReadonlySet<ProviderKind>,
  offline: boolean,
): ModelRoute | undefined {
  const candidates = FAMILY_PROVIDERS[family];
  const provider = offline ? candidates[0] : candidates.find((kind) => available.has(kind));
  return provider ? { provider, deployment } : undefined;
}

/**
 * Reads `MODEL_ROLE_<ROLE>=<provider>:<deployment>` and `MODEL_ROLE_<ROLE>_FALLBACK=<role or provider:deployment>,…`
 * over the defaults. Default roles whose provider family is not configured become unavailable, not errors,
 * so an app that never uses them still starts.
 */
export function parseRoles(
  env: EnvReader,
  available: ReadonlySet<ProviderKind>,
  offline: boolean,
): { roles: Record<string, RoleConfig>; unavailableRoles: Record<string, string> } {
  const primaries = new Map<string, ModelRoute>();
  const unavailableRoles: Record<string, string> = {};
  for (const [role, spec] of Object.entries(DEFAULT_ROLES)) {
    if (env.text(roleVar(role))) continue;
    const route = defaultRoute(spec.family, spec.deployment, available, offline);
    if (route) primaries.set(role, route);
    else
      unavailableRoles[role] =
        `role "${role}" defaults to ${spec.deployment} but no ${spec.family === 'claude' ? 'Claude' : 'GPT'} provider ` +
        `is configured; set ${FAMILY_SETUP[spec.family]}, or ${roleVar(role)}=<provider>:<deployment>`;
  }

  const explicitRoles = env
    .keys()
    .flatMap((key) => {
      const match = ROLE_VAR.exec(key);
      return match?.[1] && roleOfSetting(match[1]) === undefined
        ? [[key, match[1].toLowerCase()] as const]
        : [];
    })
    .sort(([a], [b]) => a.localeCompare(b));
  for (const [setting, role] of explicitRoles) {
    if (!RoleName.safeParse(role).success) {
      env.problems.push(
        `${setting}: role names are up to 40 letters, digits and "_", starting with a letter`,
      );
      continue;
    }
    const route = parseRoute(env, setting, env.text(setting) ?? '', available, offline);
    if (route) primaries.set(role, route);
  }

  const roles: Record<string, RoleConfig> = {};
  for (const [role, route] of primaries) {
    const setting = `${roleVar(role)}${FALLBACK_SUFFIX}`;
    const text = env.text(setting);
    const explicit = text !== undefined;
    const entries = explicit
      ? text.toLowerCase() === 'none'
        ? []
        : text.split(',').map((entry) => entry.trim())
      : (DEFAULT_ROLES[role]?.fallback ?? []);
    const fallback: ModelRoute[] = [];
    for (const entry of entries) {
      if (entry.includes(':')) {
        const parsed = parseRoute(env, setting, entry, available, offline);
        if (parsed) fallback.push(parsed);
        continue;
      }
      const target = primaries.get(entry);
      if (target) fallback.push(target);
      else if (explicit) {
        env.problems.push(
          `${setting} names role "${entry}", which is not configured; use a configured role or <provider>:<deployment>`,
        );
      }
    }
    roles[role] = { route, fallback, ...callSettings(env, role) };
  }
  for (const key of env.keys()) {
    const match = ROLE_VAR.exec(key);
    const role = match?.[1] === undefined ? undefined : roleOfSetting(match[1]);
    if (role && !primaries.has(role.toLowerCase()) && !(role.toLowerCase() in unavailableRoles)) {
      env.problems.push(`${key} is set but role "${role.toLowerCase()}" is not; set ${roleVar(role)} too`);
    }
  }
  return { roles, unavailableRoles };
}
