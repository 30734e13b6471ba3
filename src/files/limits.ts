/**
 * What each provider family accepts as an image or PDF input, with sources. The starter checks a file
 * against the strictest family a workflow's model steps can reach; the offline model enforces Claude's.
 */
import { isImageType, type FileMediaType } from '../shared/fileTypes.js';
import type { ProviderKind } from '../shared/modelTypes.js';
import type { FileFacts } from './sniff.js';

export interface FileLimits {
  /** Which family these are (for messages). */
  readonly family: string;
  readonly imageTypes: readonly FileMediaType[];
  /** Largest image, counted as its base64 text where the API counts that (Claude). */
  readonly imageMaxBytes: number;
  readonly imageBytesAreBase64: boolean;
  /** Longest accepted image side, in pixels. */
  readonly imageMaxSide: number;
  readonly pdfMaxBytes: number;
  readonly pdfMaxPages: number;
}

const MB = 1024 * 1024;
const IMAGE_TYPES: readonly FileMediaType[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/**
 * Claude (Messages API, Foundry). Images: JPEG, PNG, GIF, WebP; "Maximum 5MB per image" on the API
 * (https://docs.claude.com/en/docs/build-with-claude/vision, FAQ), measured on the base64 text — the API's
 * 400 reads "image.source.base64: image exceeds 5 MB maximum: N bytes > 5242880 bytes"
 * (github.com/anthropics/claude-code/issues/19631), and Anthropic's own client keeps raw images under
 * 3.75 MB for that reason (pub.dev neomage utils/constants/api_limits, `apiImageMaxBase64Size`);
 * "larger than 8000x8000 px, it will be rejected" (same page; 2000x2000 with more than 20 images).
 * PDFs: "Maximum request size 32MB, maximum pages per request 100, standard PDF (no passwords/encryption)"
 * (https://docs.claude.com/en/docs/build-with-claude/pdf-support; 1M-context models take 600 pages).
 */
export const CLAUDE_FILE_LIMITS: FileLimits = {
  family: 'Claude',
  imageTypes: IMAGE_TYPES,
  imageMaxBytes: 5 * MB,
  imageBytesAreBase64: true,
  imageMaxSide: 8000,
  pdfMaxBytes: 32 * MB,
  pdfMaxPages: 100,
};

/**
 * GPT (Azure OpenAI, OpenAI). Images: PNG, JPEG, WebP, non-animated GIF, "Up to 20MB per image", 500
 * images and 50 MB of image bytes per request (https://platform.openai.com/docs/guides/images-vision,
 * "Image input requirements"); no pixel maximum (large images are scaled down). PDFs go in as file
 * inputs with text and a page image per page (https://developers.openai.com/api/docs/guides/pdf-files);
 * no per-file page or size limit was found in the sources read, so Claude's are applied.
 */
export const OPENAI_FILE_LIMITS: FileLimits = {
  family: 'GPT',
  imageTypes: IMAGE_TYPES,
  imageMaxBytes: 20 * MB,
  imageBytesAreBase64: false,
  imageMaxSide: Number.MAX_SAFE_INTEGER,
  pdfMaxBytes: 32 * MB,
  pdfMaxPages: 100,
};

export function limitsOf(provider: ProviderKind): FileLimits {
  return provider === 'foundry' || provider === 'anthropic' ? CLAUDE_FILE_LIMITS : OPENAI_FILE_LIMITS;
}

/** Base64 length of `bytes` raw bytes (with padding). */
export const base64Length = (bytes: number): number => Math.ceil(bytes / 3) * 4;

/** Why `facts` exceeds `limits`, naming the limit and its value, or undefined when it fits. */
export function limitProblem(facts: FileFacts, limits: FileLimits): string | undefined {
  if (facts.mediaType === 'application/pdf') {
    if (facts.encrypted) return `is an encrypted PDF; ${limits.family} takes standard PDFs only`;
    if (facts.bytes > limits.pdfMaxBytes) {
      return `is a ${facts.bytes}-byte PDF; ${limits.family} takes at most ${limits.pdfMaxBytes} bytes`;
    }
    if ((facts.pages ?? 0) > limits.pdfMaxPages) {
      return `is a PDF of ${facts.pages} pages; ${limits.family} takes at most ${limits.pdfMaxPages}`;
    }
    return undefined;
  }
  if (!isImageType(facts.mediaType) || !limits.imageTypes.includes(facts.mediaType)) {
    return `is ${facts.mediaType}, which ${limits.family} does not take`;
  }
  const counted = limits.imageBytesAreBase64 ? base64Length(facts.bytes) : facts.bytes;
  if (counted > limits.imageMaxBytes) {
    const what = limits.imageBytesAreBase64 ? `${counted} bytes as base64` : `${counted} bytes`;
    return `is an image of ${what}; ${limits.family} takes at most ${limits.imageMaxBytes}`;
  }
  const side = Math.max(facts.width ?? 0, facts.height ?? 0);
  if (side > limits.imageMaxSide) {
    return `is ${facts.width}x${facts.height} px; ${limits.family} rejects images over ${limits.imageMaxSide} px on a side`;
  }
  return undefined;
}

/** The strictest of several families' limits (a workflow whose steps reach Claude and GPT gets both). */
export function strictestLimits(all: readonly FileLimits[]): FileLimits {
  if (all.length === 0) return CLAUDE_FILE_LIMITS;
  const strict = (pick: (limits: FileLimits) => number) => Math.min(...all.map(pick));
  const base64 = all.some((limits) => limits.imageBytesAreBase64);
  return {
    family: [...new Set(all.map((limits) => limits.family))].join(' and '),
    imageTypes: IMAGE_TYPES.filter((type) => all.every((limits) => limits.imageTypes.includes(type))),
    // Counted as base64 when any family counts so; a raw-byte limit stays at least as strict that way.
    imageMaxBytes: strict((limits) => limits.imageMaxBytes),
    imageBytesAreBase64: base64,
    imageMaxSide: strict((limits) => limits.imageMaxSide),
    pdfMaxBytes: strict((limits) => limits.pdfMaxBytes),
    pdfMaxPages: strict((limits) => limits.pdfMaxPages),
  };
}

/**
 * Input tokens a file costs, as the providers document them. Claude images: `width * height / 750` after
 * scaling the long edge down to 1568 px (https://docs.claude.com/en/docs/build-with-claude/vision,
 * "Calculate image costs"); PDFs: each page is its text plus an image of the page, "1,500-3,000 tokens per
 * page depending on content density" (https://docs.claude.com/en/docs/build-with-claude/pdf-support,
 * "Estimate your costs"): counted here as 1,500 per page plus the text's tokens.
 */
export function claudeFileTokens(
  facts: Pick<FileFacts, 'mediaType' | 'width' | 'height' | 'pages'>,
  textTokens = 0,
): number {
  if (facts.mediaType === 'application/pdf') return (facts.pages ?? 1) * CLAUDE_PDF_PAGE_TOKENS + textTokens;
  let width = facts.width ?? 0;
  let height = facts.height ?? 0;
  const longEdge = Math.max(width, height);
  if (longEdge > CLAUDE_IMAGE_LONG_EDGE) {
    const scale = CLAUDE_IMAGE_LONG_EDGE / longEdge;
    width = Math.round(width * scale);
    height = Math.round(height * scale);
  }
  return Math.max(1, Math.ceil((width * height) / 750));
}

export const CLAUDE_IMAGE_LONG_EDGE = 1568;
export const CLAUDE_PDF_PAGE_TOKENS = 1500;

/**
 * GPT image tokens, high detail, as OpenAI documents for its tile-based models: scale to fit 2048x2048,
 * then the short side to 768, then 170 per 512-px tile plus 85
 * (https://platform.openai.com/docs/guides/images-vision, "Calculating costs"). A PDF page is counted as
 * a 768x994 page image (4 tiles, 765 tokens); its extracted text is not known here.
 */
function gptImageTokens(width: number, height: number): number {
  let w = width;
  let h = height;
  const fit = Math.min(1, 2048 / Math.max(w, h));
  w *= fit;
  h *= fit;
  const shortSide = Math.min(1, 768 / Math.min(w, h));
  w *= shortSide;
  h *= shortSide;
  return 85 + 170 * Math.ceil(w / 512) * Math.ceil(h / 512);
}

/** GPT input tokens of an image or PDF (the PDF's text tokens, when known, on top). */
export function gptFileTokens(
  facts: Pick<FileFacts, 'mediaType' | 'width' | 'height' | 'pages'>,
  textTokens = 0,
): number {
  if (facts.mediaType === 'application/pdf') return (facts.pages ?? 1) * GPT_PDF_PAGE_TOKENS + textTokens;
  return gptImageTokens(facts.width ?? 512, facts.height ?? 512);
}

export const GPT_PDF_PAGE_TOKENS = 765;
