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
const SKIPPED = new Set([
  'SCRIPT',
  'STYLE',
  'NOSCRIPT',
  'TEMPLATE',
  'SVG',
  'IFRAME',
  'HEAD',
  'CANVAS',
  'OBJECT',
]);
const BLOCKS = new Set([
  'ADDRESS',
  'ARTICLE',
  'ASIDE',
  'BLOCKQUOTE',
  'DD',
  'DETAILS',
  'DIV',
  'DL',
  'DT',
  'FIELDSET',
  'FIGCAPTION',
  'FIGURE',
  'FOOTER',
  'FORM',
  'HEADER',
  'MAIN',
  'NAV',
  'OL',
  'P',
  'SECTION',
  'SUMMARY',
  'TABLE',
  'UL',
]);
const PAGE_CHROME = 'script, style, noscript, template, svg, iframe, nav, header, footer, aside, form';
const PRE_MARK = '\u0000';

class TextWriter {
  private readonly parts: string[] = [];
  private readonly preformatted: string[] = [];

  constructor(private readonly baseUrl: string) {}

  text(value: string): void {
    this.parts.push(value.replace(/\s+/g, ' '));
  }

  /** A paragraph break (`\n\n`) or a line break (`\n`). */
  break(kind: '\n' | '\n\n'): void {
    this.parts.push(kind);
  }

  pre(value: string): void {
    this.preformatted.push(value.replace(/\n+$/, ''));
    this.parts.push(`\n\n${PRE_MARK}${this.preformatted.length - 1}${PRE_MARK}\n\n`);
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
    else this.parts.push(text === target?.href ? text : `[${text}](${target?.href})`);
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
  if (node.nodeType !== ELEMENT_NODE && node.nodeType !== 9 && node.nodeType !== 11) return;
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
    out.break('\n');
    if (list) list.index += 1;
    out.text(list?.ordered ? `${list.index}. ` : '- ');
    children();
    out.break('\n');
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

function metaTitle(document: DomDocument): string | undefined {
  const og = document.querySelector('meta[property="og:title"]')?.getAttribute('content')?.trim();
  return og || undefined;
}

/**
 * Turns a web page into readable text: Mozilla's Readability (Firefox Reader View) picks the main content,
 * then headings, lists, links and code blocks are kept as light Markdown. Pages Readability cannot make
 * sense of fall back to the whole body without scripts, navigation and other page chrome.
 */
export function htmlToReadableText(html: string, baseUrl: string): ReadableText {
  const { document } = parseHTML(html) as unknown as { document: DomDocument };
  const pageTitle = document.title.trim() || metaTitle(document);
  let article: { title?: string | null; content?: string | null } | null = null;
  try {
    // Readability mutates the document, so the fallback below re-parses.
    article = new Readability(document as never, {
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
