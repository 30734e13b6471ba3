/** A `.funcignore` (gitignore syntax) matcher: comments, `!` negation, `/` anchoring, dir-only `/`, `*`, `?`, `**`, `[...]`. */

interface Rule {
  readonly regex: RegExp;
  readonly negate: boolean;
  readonly dirOnly: boolean;
}

const REGEX_SPECIAL = /[.+^${}()|[\]\\*?]/g;

function globToRegexSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] ?? '';
    if (char === '\\') {
      out += (glob[++i] ?? '').replace(REGEX_SPECIAL, '\\$&');
    } else if (char === '*' && glob[i + 1] === '*') {
      const atSegmentStart = i === 0 || glob[i - 1] === '/';
      if (atSegmentStart && glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (char === '*') {
      out += '[^/]*';
    } else if (char === '?') {
      out += '[^/]';
    } else if (char === '[' && glob.indexOf(']', i + 2) !== -1) {
      const close = glob.indexOf(']', i + 2);
      const body = glob.slice(i + 1, close).replace(/\\/g, '\\\\');
      out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = close;
    } else {
      out += char.replace(REGEX_SPECIAL, '\\$&');
    }
  }
  return out;
}

function parseRule(line: string): Rule | undefined {
  let pattern = line.replace(/(?<!\\)\s+$/, '');
  if (pattern === '' || pattern.startsWith('#')) return undefined;
  const negate = pattern.startsWith('!');
  if (negate) pattern = pattern.slice(1);
  else if (pattern.startsWith('\\!') || pattern.startsWith('\\#')) pattern = pattern.slice(1);
  const dirOnly = pattern.endsWith('/');
  if (dirOnly) pattern = pattern.slice(0, -1);
  const anchored = pattern.includes('/');
  if (pattern.startsWith('/')) pattern = pattern.slice(1);
  if (pattern === '') return undefined;
  const source = globToRegexSource(pattern);
  return { regex: new RegExp(anchored ? `^${source}$` : `^(?:.*/)?${source}$`), negate, dirOnly };
}

export type IgnoreMatcher = (relativePath: string, isDirectory: boolean) => boolean;

/**
 * Builds `isIgnored(path, isDirectory)` for posix paths relative to the app root. As in git, the last
 * matching rule wins, and nothing under an ignored directory can be re-included.
 */
export function createIgnoreMatcher(text: string): IgnoreMatcher {
  const rules = text.split(/\r?\n/).flatMap((line) => parseRule(line) ?? []);
  const matchesSelf = (path: string, isDirectory: boolean): boolean => {
    let ignored = false;
    for (const rule of rules) {
      if ((!rule.dirOnly || isDirectory) && rule.regex.test(path)) ignored = !rule.negate;
    }
    return ignored;
  };
  return (relativePath, isDirectory) => {
    const segments = relativePath.split('/').filter((s) => s !== '');
    for (let depth = 1; depth < segments.length; depth++) {
      if (matchesSelf(segments.slice(0, depth).join('/'), true)) return true;
    }
    return matchesSelf(segments.join('/'), isDirectory);
  };
}
