import { describe, expect, it } from 'vitest';
import {
  composeDigest,
  createDocumentDigestActivities,
  summarizeParagraph,
} from '../../src/activities/documentDigest.js';
import type { ParagraphSummary } from '../../src/shared/schemas.js';

describe('summarizeParagraph', () => {
  it('takes the first sentence and counts every word', () => {
    expect(summarizeParagraph({ index: 2, text: '  The cat sat.  Then it slept.  ' }, 40)).toEqual({
      index: 2,
      firstSentence: 'The cat sat.',
      wordCount: 6,
    });
  });

  it('ends sentences at ! and ? and after closing quotes, but not inside numbers or names', () => {
    expect(summarizeParagraph({ index: 0, text: 'Is it 3.5 now? Yes.' }, 40).firstSentence).toBe(
      'Is it 3.5 now?',
    );
    expect(summarizeParagraph({ index: 0, text: 'She said "stop." Then left.' }, 40).firstSentence).toBe(
      'She said "stop."',
    );
    expect(summarizeParagraph({ index: 0, text: 'See example.com for more' }, 40).firstSentence).toBe(
      'See example.com for more',
    );
  });

  it('uses the whole paragraph when it has no sentence end, and cuts long sentences', () => {
    expect(summarizeParagraph({ index: 0, text: 'a b c d e f g' }, 5).firstSentence).toBe('a b c d e…');
  });
});

describe('composeDigest', () => {
  const summaries: ParagraphSummary[] = [
    { index: 1, firstSentence: 'Second.', wordCount: 300 },
    { index: 0, firstSentence: 'First.', wordCount: 10 },
  ];

  it('orders the outline by paragraph and totals words and reading time', () => {
    const digest = composeDigest({ title: 'T', summaries });
    expect(digest.outline.map((s) => s.index)).toEqual([0, 1]);
    expect(digest).toMatchObject({ title: 'T', paragraphCount: 2, wordCount: 310, readingMinutes: 2 });
    expect(digest.summary).toBe('First. Second.');
  });

  it('rounds reading time up to at least a minute', () => {
    expect(
      composeDigest({ title: 'T', summaries: [{ index: 0, firstSentence: '', wordCount: 1 }] })
        .readingMinutes,
    ).toBe(1);
  });
});

describe('createDocumentDigestActivities', () => {
  it('validates activity input at the edge and reads config through the injected getter', () => {
    let reads = 0;
    const activities = createDocumentDigestActivities({
      config: () => {
        reads++;
        return { summaryMaxWords: 2 };
      },
    });
    expect(activities.summarizeParagraph({ index: 0, text: 'one two three.' })).toMatchObject({
      firstSentence: 'one two…',
    });
    expect(reads).toBe(1);
    expect(() => activities.summarizeParagraph({ text: 'no index' })).toThrow();
    expect(() => activities.composeDigest({ title: 'T', summaries: [] })).toThrow();
  });
});
