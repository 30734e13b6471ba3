import { describe, expect, it } from 'vitest';
import { htmlToReadableText } from '../../../../src/tools/web/htmlToText.js';

const base = 'https://news.example.com/2025/report';

describe('htmlToReadableText', () => {
  it('keeps the main content with light Markdown and drops scripts, styles and navigation', () => {
    const page = htmlToReadableText(
      `<html><head><title>Site | Report</title><script>evil()</script></head><body>
       <nav><a href="/">Home</a></nav>
       <main><h2>Findings</h2><p>First paragraph with a <a href="../data">data link</a> and
       <b>bold</b> words.</p><ol><li>one</li><li>two</li></ol>
       <table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table></main>
       <footer>footer text</footer></body></html>`,
      base,
    );
    expect(page.title).toBe('Site | Report');
    expect(page.text).toContain('## Findings');
    expect(page.text).toContain(
      'First paragraph with a [data link](https://news.example.com/data) and bold words.',
    );
    expect(page.text).toContain('1. one\n2. two');
    expect(page.text).toContain('a | 1 |');
    expect(page.text).not.toContain('evil()');
  });

  it('handles fragments and body-less documents', () => {
    expect(htmlToReadableText('<p>Hello</p><p>world</p>', base).text).toBe('Hello\n\nworld');
    const page = htmlToReadableText('<html><head><title>T</title></head><p>Hi there</p></html>', base);
    expect(page).toEqual({ title: 'T', text: 'Hi there' });
  });

  it('drops links that are not http(s)', () => {
    const page = htmlToReadableText(
      '<p><a href="javascript:alert(1)">click</a> <a href="mailto:a@b.c">mail</a></p>',
      base,
    );
    expect(page.text).toBe('click mail');
  });

  it('returns empty text for an empty page', () => {
    expect(htmlToReadableText('', base).text).toBe('');
  });
});
