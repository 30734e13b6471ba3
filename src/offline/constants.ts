/** Response header on every answer the deterministic stand-in made up (not on scripted replies). */
export const OFFLINE_HEADER = 'x-offline-model';

/** Characters per token in every offline estimate (prompts, answers, cache prefixes), so they agree. */
export const CHARS_PER_TOKEN = 4;

/** The offline model's token count for `chars` characters of text (at least 1). */
export const tokens = (chars: number): number => Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN));

/** Every text answer of the offline model starts with this. */
export const OFFLINE_PREFIX = '[offline]';
