import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('parseConfig', () => {
  it('has working defaults with nothing set', () => {
    expect(parseConfig({})).toEqual({ maxWaitSeconds: 60, summaryMaxWords: 40 });
  });

  it('reads and coerces settings, treating blank as unset', () => {
    expect(parseConfig({ WORKFLOW_MAX_WAIT_SECONDS: ' 10 ', DIGEST_SUMMARY_MAX_WORDS: '' })).toEqual({
      maxWaitSeconds: 10,
      summaryMaxWords: 40,
    });
  });

  it('names every bad setting, its value and where to fix it', () => {
    let error: unknown;
    try {
      parseConfig({ WORKFLOW_MAX_WAIT_SECONDS: 'soon', DIGEST_SUMMARY_MAX_WORDS: '1' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(
      'WORKFLOW_MAX_WAIT_SECONDS must be a whole number between 0 and 230 (got "soon")',
    );
    expect(message).toContain('DIGEST_SUMMARY_MAX_WORDS must be at least 5 (got "1")');
    expect(message).toContain('local.settings.json');
    expect((error as ConfigError).problems).toHaveLength(2);
  });
});
