/** Masks secret-looking values before run inputs, outputs and histories leave the app. */

export const REDACTED = '[redacted]';

// Compared word by word ("api_key", "X-Api-Key" and "apiKey" are all [api, key]), so "keywords",
// "monkey" and "inputTokens" stay visible.
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'secrets',
  'token',
  'apikey',
  'authorization',
  'auth',
  'credential',
  'credentials',
  'cookie',
  'sas',
  'signature',
  'connectionstring',
  'privatekey',
]);

function wordsOf(key: string): string[] {
  return key
    .split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase());
}

/** Whether a property name looks like it holds a secret. */
export function isSecretKey(key: string): boolean {
  const words = wordsOf(key);
  const last = words.at(-1);
  return (
    words.some((word) => SECRET_WORDS.has(word)) ||
    last === 'key' ||
    words.join('').includes('connectionstring')
  );
}

// Secrets that show up inside text: bearer tokens, SAS signatures, account keys in connection strings.
const SECRET_IN_TEXT: readonly [RegExp, string][] = [
  [/(bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, `$1${REDACTED}`],
  [/((?:AccountKey|SharedAccessKey|SharedAccessSignature)=)[^;"'\s]+/gi, `$1${REDACTED}`],
  [/([?&](?:sig|code|api[-_]?key|access_token)=)[^&"'\s]+/gi, `$1${REDACTED}`],
];

export function redactText(text: string): string {
  return SECRET_IN_TEXT.reduce(
    (current, [pattern, replacement]) => current.replace(pattern, replacement),
    text,
  );
}

/** A deep copy of `value` with the values of secret-looking keys replaced; cycles and depth are bounded. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 64) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [
      key,
      isSecretKey(key) && item !== null && item !== undefined && item !== ''
        ? REDACTED
        : redactSecrets(item, depth + 1),
    ]),
  );
}
