import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';

/** The slice of the DOM this module reads; linkedom nodes have it (the project compiles without DOM types). */
interface DomNode {
  readonly nodeType: number;
  readonly nodeName: string;
  readonly textContent: string | null;
  readonly childNodes: ArrayLike<DomNode>;
  getAttribute?(name: string): string | null;
}
interface DomElement extends DomNode {
  getAttribute(name: string): string | null;
  remove(): void;
}
interface DomDocument {
  readonly title: string;
  readonly body: DomElement | null;
  readonly documentElement: DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  querySelector(selector: string): DomElement | null;
}

export interface ReadableText {
  readonly title?: string;
  readonly text: string;
}

const TEXT_NODE = 3;
const ELEMENT_NODE = 1;
const DOCUMENT_NODE = 9;
const FRAGMENT_NODE = 11;
const SKIPPED = new Set('SCRIPT STYLE NOSCRIPT TEMPLATE SVG IFRAME HEAD CANVAS OBJECT'.split(' '));
const BLOCKS = new Set(
  (
    'ADDRESS ARTICLE ASIDE BLOCKQUOTE DD DETAILS DIV DL DT FIELDSET FIGCAPTION FIGURE FOOTER FORM HEADER ' +
    'MAIN NAV OL P SECTION SUMMARY TABLE UL'
  ).split(' '),
);
const PAGE_CHROME = 'script, style, noscript, template, svg, iframe, nav, header, footer, aside, form';
const PRE_MARK = '\u0000';

/**
 * Collects text with breaks resolved lazily, so nested blocks (a paragraph inside a list item) do not
 * stack blank lines, and a list item's marker lands on the same line as its first words.
 */
class TextWriter {
  private readonly parts: string[] = [];
  private readonly preformatted: string[] = [];
  private pendingBreak: '' | '\n' | '\n\n' = '';
  private pendingMarker = '';
  private listItemDepth = 0;

  constructor(private readonly baseUrl: string) {}

  private emit(value: string): void {
    if (this.parts.length > 0 && this.pendingBreak !== '') this.parts.push(this.pendingBreak);
    this.pendingBreak = '';
    if (this.pendingMarker !== '') this.parts.push(this.pendingMarker);
    this.pendingMarker = '';
    this.parts.push(value);
  }

  text(value: string): void {
    const collapsed = value.replace(/\s+/g, ' ');
    if (collapsed.trim() !== '') this.emit(collapsed);
    else if (collapsed !== '' && this.pendingBreak === '' && this.pendingMarker === '') this.parts.push(' ');
  }

  /** A paragraph break (`\n\n`) or a line break (`\n`); inside list items paragraphs become lines. */
  break(kind: '\n' | '\n\n'): void {
    if (this.pendingMarker !== '') return;
    const effective = this.listItemDepth > 0 ? '\n' : kind;
    if (effective === '\n\n' || this.pendingBreak === '') this.pendingBreak = effective;
  }

  listItem(marker: string, body: () => void): void {
    this.break('\n');
    this.pendingMarker = marker;
    this.listItemDepth += 1;
    body();
    this.listItemDepth -= 1;
    this.pendingMarker = '';
    this.break('\n');
  }

  pre(value: string): void {
    this.break('\n\n');
    this.preformatted.push(value.replace(/\n+$/, ''));
    this.emit(`${PRE_MARK}${this.preformatted.length - 1}${PRE_MARK}`);
    this.break('\n\n');
  }

  link(href: string | null, label: string): void {
    const text = label.replace(/\s+/g, ' ').trim();
    let target: URL | undefined;
    try {
      target = href ? new URL(href, this.baseUrl) : undefined;
    } catch {
      target = undefined;
    }
    const linkable = target && (target.protocol === 'http:' || target.protocol === 'https:');
    if (!linkable || text === '') this.text(text);
    else this.emit(text === target?.href ? text : `[${text}](${target?.href})`);
  }

  toString(): string {
    return this.parts
      .join('')
      .split('\n')
      .map((line) => line.replace(/ {2,}/g, ' ').trim())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
      .replace(new RegExp(`${PRE_MARK}(\\d+)${PRE_MARK}`, 'g'), (_m, index: string) => {
        return '```\n' + (this.preformatted[Number(index)] ?? '') + '\n```';
      });
  }
}

function write(node: DomNode, out: TextWriter, list?: { ordered: boolean; index: number }): void {
  if (node.nodeType === TEXT_NODE) {
    out.text(node.textContent ?? '');
    return;
  }
  if (node.nodeType !== ELEMENT_NODE && node.nodeType !== DOCUMENT_NODE && node.nodeType !== FRAGMENT_NODE)
    return;
  const tag = node.nodeName.toUpperCase();
  if (SKIPPED.has(tag)) return;
  const children = () => {
    for (const child of Array.from(node.childNodes)) write(child, out);
  };
  const heading = /^H([1-6])$/.exec(tag)?.[1];
  if (heading !== undefined) {
    out.break('\n\n');
    out.text(`${'#'.repeat(Number(heading))} `);
    children();
    out.break('\n\n');
  } else if (tag === 'BR') out.break('\n');
  else if (tag === 'HR') {
    out.break('\n\n');
    out.text('---');
    out.break('\n\n');
  } else if (tag === 'PRE') out.pre(node.textContent ?? '');
  else if (tag === 'A') out.link(node.getAttribute?.('href') ?? null, node.textContent ?? '');
  else if (tag === 'IMG') {
    const alt = node.getAttribute?.('alt')?.trim();
    if (alt) out.text(` [image: ${alt}] `);
  } else if (tag === 'UL' || tag === 'OL') {
    out.break('\n\n');
    const state = { ordered: tag === 'OL', index: 0 };
    for (const child of Array.from(node.childNodes)) write(child, out, state);
    out.break('\n\n');
  } else if (tag === 'LI') {
    if (list) list.index += 1;
    out.listItem(list?.ordered ? `${list.index}. ` : '- ', children);
  } else if (tag === 'TR') {
    out.break('\n');
    children();
    out.break('\n');
  } else if (tag === 'TD' || tag === 'TH') {
    children();
    out.text(' | ');
  } else if (BLOCKS.has(tag)) {
    out.break('\n\n');
    children();
    out.break('\n\n');
  } else children();
}

function serialize(node: DomNode, baseUrl: string): string {
  const out = new TextWriter(baseUrl);
  write(node, out);
  return out.toString();
}

/**
 * linkedom only builds a proper tree when the markup has a body (a bare fragment ends up nested in its
 * first element), so body-less pages and fragments get one.
 */
function withBody(html: string): string {
  if (/<body[\s>]/i.test(html)) return html;
  const headClose = /<\/head\s*>/i.exec(html);
  const htmlOpen = /<html[^>]*>/i.exec(html);
  const anchor = headClose ?? htmlOpen;
  if (anchor === null) return `<!doctype html><html><head></head><body>${html}</body></html>`;
  const split = anchor.index + anchor[0].length;
  const head = headClose ? '' : '<head></head>';
  const rest = html.slice(split).replace(/<\/html\s*>\s*$/i, '');
  return `${html.slice(0, split)}${head}<body>${rest}</body></html>`;
}

function metaTitle(document: DomDocument, html: string): string | undefined {
  const titleTag = /<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();
  if (titleTag) return titleTag;
  const og = document.querySelector('meta[property="og:title"]')?.getAttribute('content')?.trim();
  return og || undefined;
}

/**
 * Turns a web page into readable text: Mozilla's Readability (Firefox Reader View) picks the main content,
 * then headings, lists, links and code blocks are kept as light Markdown. Pages Readability cannot make
 * sense of fall back to the whole body without scripts, navigation and other page chrome.
 */
export function htmlToReadableText(rawHtml: string, baseUrl: string): ReadableText {
  const html = withBody(rawHtml);
  const { document } = parseHTML(html) as unknown as { document: DomDocument };
  const pageTitle = document.title.trim() || metaTitle(document, rawHtml);
  let article: { title?: string | null; content?: string | null } | null;
  try {
    // Readability mutates the document, so the fallback below re-parses.
    article = new Readability(document, {
      serializer: (node: unknown) => serialize(node as DomNode, baseUrl),
    }).parse();
  } catch {
    article = null;
  }
  const title = (article?.title?.trim() || pageTitle) ?? undefined;
  let text = article?.content?.trim() ?? '';
  if (text === '') {
    const fresh = (parseHTML(html) as unknown as { document: DomDocument }).document;
    for (const element of Array.from(fresh.querySelectorAll(PAGE_CHROME))) element.remove();
    const root = fresh.body ?? fresh.documentElement;
    text = root ? serialize(root, baseUrl) : '';
  }
  return { ...(title ? { title } : {}), text };
}
