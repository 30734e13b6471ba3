/** Response header on every answer the deterministic stand-in made up (not on scripted replies). */
export const OFFLINE_HEADER = 'x-offline-model';

/** Every text answer of the offline model starts with this. */
export const OFFLINE_PREFIX = '[offline]';
