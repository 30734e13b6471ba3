/**
 * Functions route templates (ASP.NET Core route template syntax, the subset the Functions host
 * accepts): literal segments matched case-insensitively, `{name}`, `{name?}`, `{name=default}`,
 * `{*rest}` / `{**rest}` catch-all, inline constraints `{id:int}`, `{x:regex(^a+$)}` and complex
 * segments such as `{name}.{ext}`.
 */

type Constraint = (value: string) => boolean;

interface ParamPart {
  kind: 'param';
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue?: string;
  constraints: Constraint[];
}
type Part = { kind: 'literal'; text: string } | ParamPart;
type Segment = Part[];

export interface RouteTemplate {
  readonly template: string;
  /** Lower sorts first: literal 1, complex 2, constrained parameter 3, parameter 4, catch-all 5, per segment. */
  readonly precedence: readonly number[];
  /** `segments` are already percent-decoded. Returns the route values or undefined. */
  match(segments: readonly string[]): Record<string, string> | undefined;
}

export class RouteTemplateError extends Error {}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const GUID = /^(\{)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}(\})?$/i;

function intArgs(name: string, args: string | undefined, count: number[]): number[] {
  const values = (args ?? '').split(',').map((a) => a.trim());
  if (!count.includes(values.length) || values.some((v) => !/^-?\d+$/.test(v))) {
    throw new RouteTemplateError(
      `Route constraint '${name}' expects ${count.join(' or ')} integer argument(s).`,
    );
  }
  return values.map(Number);
}

function buildConstraint(spec: string, template: string): Constraint {
  const m = /^([A-Za-z]+)(?:\((.*)\))?$/s.exec(spec);
  if (!m) throw new RouteTemplateError(`Malformed route constraint '${spec}' in route '${template}'.`);
  const name = (m[1] ?? '').toLowerCase();
  const args = m[2];
  const noArgs = (c: Constraint): Constraint => {
    if (args !== undefined) throw new RouteTemplateError(`Route constraint '${name}' takes no arguments.`);
    return c;
  };
  switch (name) {
    case 'int':
      return noArgs((v) => /^[+-]?\d+$/.test(v) && Math.abs(Number(v)) <= 2 ** 31);
    case 'long':
      return noArgs((v) => /^[+-]?\d+$/.test(v) && Math.abs(Number(v)) <= 2 ** 63);
    case 'bool':
      return noArgs((v) => /^(true|false)$/i.test(v));
    case 'decimal':
    case 'double':
    case 'float':
      return noArgs((v) => NUMBER.test(v));
    case 'guid':
      return noArgs((v) => GUID.test(v));
    case 'datetime':
      return noArgs((v) => v.trim() !== '' && !Number.isNaN(Date.parse(v)));
    case 'alpha':
      return noArgs((v) => /^[A-Za-z]+$/.test(v));
    case 'required':
      return noArgs((v) => v !== '');
    case 'minlength': {
      const [n = 0] = intArgs(name, args, [1]);
      return (v) => v.length >= n;
    }
    case 'maxlength': {
      const [n = 0] = intArgs(name, args, [1]);
      return (v) => v.length <= n;
    }
    case 'length': {
      const [a = 0, b] = intArgs(name, args, [1, 2]);
      return b === undefined ? (v) => v.length === a : (v) => v.length >= a && v.length <= b;
    }
    case 'min': {
      const [n = 0] = intArgs(name, args, [1]);
      return (v) => /^[+-]?\d+$/.test(v) && Number(v) >= n;
    }
    case 'max': {
      const [n = 0] = intArgs(name, args, [1]);
      return (v) => /^[+-]?\d+$/.test(v) && Number(v) <= n;
    }
    case 'range': {
      const [lo = 0, hi = 0] = intArgs(name, args, [2]);
      return (v) => /^[+-]?\d+$/.test(v) && Number(v) >= lo && Number(v) <= hi;
    }
    case 'regex': {
      if (!args)
        throw new RouteTemplateError(`Route constraint 'regex' needs a pattern in route '${template}'.`);
      let re: RegExp;
      try {
        // ASP.NET evaluates regex constraints case-insensitively.
        re = new RegExp(args, 'i');
      } catch (error) {
        throw new RouteTemplateError(`Invalid regex constraint '${args}': ${(error as Error).message}`);
      }
      return (v) => re.test(v);
    }
    default:
      throw new RouteTemplateError(
        `Unknown route constraint '${name}' in route '${template}'. Supported: int, long, bool, decimal, double, float, guid, datetime, alpha, required, minlength, maxlength, length, min, max, range, regex.`,
      );
  }
}

/** Splits `name:c1:c2(args)?` respecting parentheses, so regex patterns may contain ':'. */
function splitConstraints(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '(') depth++;
    if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === ':' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

function parseParam(raw: string, template: string): ParamPart {
  let body = raw;
  let catchAll = false;
  if (body.startsWith('**')) [catchAll, body] = [true, body.slice(2)];
  else if (body.startsWith('*')) [catchAll, body] = [true, body.slice(1)];
  let optional = false;
  let defaultValue: string | undefined;
  const [head = '', ...constraintSpecs] = splitConstraints(body);
  let name = head;
  const last = constraintSpecs.length ? constraintSpecs[constraintSpecs.length - 1] : undefined;
  // `?` and `=default` come after the constraints: `{id:int?}`, `{id:int=5}`.
  const applyTail = (text: string): string => {
    const eq = text.indexOf('=');
    if (eq >= 0) {
      defaultValue = text.slice(eq + 1);
      text = text.slice(0, eq);
    }
    if (text.endsWith('?')) {
      optional = true;
      text = text.slice(0, -1);
    }
    return text;
  };
  if (last !== undefined) constraintSpecs[constraintSpecs.length - 1] = applyTail(last);
  else name = applyTail(name);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new RouteTemplateError(`Invalid route parameter name '${name}' in route '${template}'.`);
  }
  if (optional && defaultValue !== undefined) {
    throw new RouteTemplateError(
      `Route parameter '${name}' cannot be both optional and have a default value.`,
    );
  }
  const constraints = constraintSpecs.map((spec) => buildConstraint(spec, template));
  return { kind: 'param', name, optional, catchAll, defaultValue, constraints };
}

function parseSegment(text: string, template: string): Segment {
  const parts: Part[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '{') {
      if (text[i + 1] === '{') {
        parts.push({ kind: 'literal', text: '{' });
        i += 2;
        continue;
      }
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        else if (text[j] === ')') depth--;
        else if (text[j] === '}' && depth <= 0) break;
      }
      if (j >= text.length) throw new RouteTemplateError(`Unclosed '{' in route '${template}'.`);
      parts.push(
        parseParam(
          text
            .slice(i + 1, j)
            .replace(/\{\{/g, '{')
            .replace(/\}\}/g, '}'),
          template,
        ),
      );
      i = j + 1;
    } else {
      const next = text.indexOf('{', i);
      const end = next < 0 ? text.length : next;
      const literal = text.slice(i, end).replace(/\}\}/g, '}');
      if (literal.includes('}')) throw new RouteTemplateError(`Unmatched '}' in route '${template}'.`);
      const prev = parts[parts.length - 1];
      if (prev?.kind === 'literal') prev.text += literal;
      else parts.push({ kind: 'literal', text: literal });
      i = end;
    }
  }
  return parts;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function compileRouteTemplate(template: string): RouteTemplate {
  const trimmed = template.replace(/^~?\/+/, '').replace(/\/+$/, '');
  const segments = trimmed === '' ? [] : trimmed.split('/').map((s) => parseSegment(s, template));
  const names = new Set<string>();
  segments.forEach((segment, index) => {
    if (segment.length === 0) throw new RouteTemplateError(`Empty segment in route '${template}'.`);
    const params = segment.filter((p): p is ParamPart => p.kind === 'param');
    for (const p of params) {
      const key = p.name.toLowerCase();
      if (names.has(key))
        throw new RouteTemplateError(`Route parameter '${p.name}' appears twice in '${template}'.`);
      names.add(key);
      if (p.catchAll && (index !== segments.length - 1 || segment.length !== 1)) {
        throw new RouteTemplateError(
          `Catch-all parameter '${p.name}' must be the whole last segment of '${template}'.`,
        );
      }
      if (segment.length > 1 && p.optional) {
        throw new RouteTemplateError(`Optional parameter '${p.name}' cannot be part of a complex segment.`);
      }
    }
  });
  // Optional/default parameters may only be followed by other optional ones.
  let sawOptional = false;
  for (const segment of segments) {
    const only = segment.length === 1 ? segment[0] : undefined;
    const canBeEmpty =
      only?.kind === 'param' && (only.optional || only.defaultValue !== undefined || only.catchAll);
    if (sawOptional && !canBeEmpty) {
      throw new RouteTemplateError(
        `In route '${template}', only optional parameters may follow an optional one.`,
      );
    }
    sawOptional ||= canBeEmpty;
  }

  const precedence = segments.map((segment) => {
    const only = segment.length === 1 ? segment[0] : undefined;
    if (!only) return 2;
    if (only.kind === 'literal') return 1;
    if (only.catchAll) return 5;
    return only.constraints.length > 0 ? 3 : 4;
  });

  const complex = segments.map((segment) => {
    if (segment.length === 1) return undefined;
    const params = segment.filter((p): p is ParamPart => p.kind === 'param');
    const source = segment.map((p) => (p.kind === 'literal' ? escapeRegex(p.text) : '(.+?)')).join('');
    return { re: new RegExp(`^${source}$`, 'is'), params };
  });

  function match(input: readonly string[]): Record<string, string> | undefined {
    const values: Record<string, string> = {};
    const accept = (p: ParamPart, value: string): boolean => {
      if (!p.constraints.every((c) => c(value))) return false;
      values[p.name] = value;
      return true;
    };
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] ?? [];
      const only = segment.length === 1 ? segment[0] : undefined;
      const value = input[i];
      if (only?.kind === 'param' && only.catchAll) {
        const rest = input.slice(i).join('/');
        if (rest === '') {
          if (only.defaultValue !== undefined) values[only.name] = only.defaultValue;
          return values;
        }
        return accept(only, rest) ? values : undefined;
      }
      if (value === undefined || value === '') {
        if (only?.kind !== 'param') return undefined;
        if (only.defaultValue !== undefined) values[only.name] = only.defaultValue;
        else if (!only.optional) return undefined;
        continue;
      }
      if (only?.kind === 'literal') {
        if (only.text.toLowerCase() !== value.toLowerCase()) return undefined;
      } else if (only?.kind === 'param') {
        if (!accept(only, value)) return undefined;
      } else {
        const c = complex[i];
        const m = c?.re.exec(value);
        if (!c || !m) return undefined;
        for (const [k, p] of c.params.entries()) if (!accept(p, m[k + 1] ?? '')) return undefined;
      }
    }
    return input.length > segments.length ? undefined : values;
  }

  return { template, precedence, match };
}

/** Negative when `a` should be tried before `b` (ASP.NET inbound precedence: literals win). */
export function comparePrecedence(a: RouteTemplate, b: RouteTemplate): number {
  const n = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < n; i++) {
    const x = a.precedence[i] ?? 0;
    const y = b.precedence[i] ?? 0;
    if (x !== y) return x - y;
  }
  return a.template.localeCompare(b.template);
}

/** Splits a raw URL path into decoded segments; throws URIError on malformed percent-encoding. */
export function splitPath(rawPath: string): string[] {
  const trimmed = rawPath.replace(/^\/+/, '').replace(/\/$/, '');
  if (trimmed === '') return [];
  return trimmed.split('/').map((s) => decodeURIComponent(s));
}
