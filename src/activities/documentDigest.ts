import type { Config } from '../config.js';
import {
  ComposeDigestInput,
  type Digest,
  type ParagraphSummary,
  SummarizeParagraphInput,
} from '../shared/schemas.js';

const WORDS_PER_MINUTE = 230;
const SENTENCE_END = /[.!?]["')\]]*(?=\s|$)/;

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word.length > 0);
}

/** Extractive summary: the first sentence, cut to `maxWords` words. */
export function summarizeParagraph(input: SummarizeParagraphInput, maxWords: number): ParagraphSummary {
  const text = input.text.trim();
  const end = SENTENCE_END.exec(text);
  const sentence = end ? text.slice(0, end.index + end[0].length) : text;
  const sentenceWords = words(sentence);
  const firstSentence =
    sentenceWords.length > maxWords
      ? `${sentenceWords.slice(0, maxWords).join(' ')}…`
      : sentenceWords.join(' ');
  return { index: input.index, firstSentence, wordCount: words(text).length };
}

/** Puts paragraph summaries back in document order and totals them. */
export function composeDigest(input: ComposeDigestInput): Digest {
  const outline = [...input.summaries].sort((a, b) => a.index - b.index);
  const wordCount = outline.reduce((sum, s) => sum + s.wordCount, 0);
  return {
    title: input.title,
    paragraphCount: outline.length,
    wordCount,
    readingMinutes: Math.max(1, Math.ceil(wordCount / WORDS_PER_MINUTE)),
    summary: outline
      .map((s) => s.firstSentence)
      .filter((s) => s.length > 0)
      .join(' '),
    outline,
  };
}

export interface DocumentDigestActivityDeps {
  readonly config: () => Pick<Config, 'summaryMaxWords'>;
}

/** The document-digest activity handlers; each validates its input at the edge. */
export function createDocumentDigestActivities(deps: DocumentDigestActivityDeps) {
  return {
    summarizeParagraph: (input: unknown): ParagraphSummary =>
      summarizeParagraph(SummarizeParagraphInput.parse(input), deps.config().summaryMaxWords),
    composeDigest: (input: unknown): Digest => composeDigest(ComposeDigestInput.parse(input)),
  };
}
