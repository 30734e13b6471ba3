/** Maps JSON paths inside a parsed YAML document back to line and column. */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { PathSegment } from './errors.js';

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export interface Located {
  readonly path: readonly PathSegment[];
  /** Point at the key rather than the value (unknown keys). */
  readonly at?: 'key' | 'value';
  /** An offset inside the string value (an expression inside a template). */
  readonly offsetInValue?: number;
}

function pairFor(node: unknown, key: PathSegment): Pair<Node, Node | null> | undefined {
  if (!isMap(node)) return undefined;
  return node.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === String(key)) as
    Pair<Node, Node | null> | undefined;
}

const PROBE_LENGTH = 24;

export class SourceMap {
  constructor(
    private readonly text: string,
    private readonly document: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  positionAt(offset: number): SourcePosition {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  /** The deepest node along `path` that exists, with its key when reached through a map. */
  private resolve(path: readonly PathSegment[]): { node: Node | null; key?: Node; complete: boolean } {
    let node: Node | null = this.document.contents;
    let key: Node | undefined;
    for (const segment of path) {
      if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        if (!item) return { node, key, complete: false };
        node = item;
        key = undefined;
        continue;
      }
      const pair = pairFor(node, segment);
      if (!pair) return { node, key, complete: false };
      key = pair.key;
      node = pair.value ?? pair.key;
    }
    return { node, key, complete: true };
  }

  locate({ path, at = 'value', offsetInValue }: Located): SourcePosition {
    const { node, key, complete } = this.resolve(path);
    const target = complete && at === 'key' && key ? key : node;
    const start = target?.range?.[0] ?? 0;
    if (offsetInValue !== undefined && complete && isScalar(target) && typeof target.value === 'string') {
      const inner = this.findInSource(target, target.value, offsetInValue);
      if (inner !== undefined) return this.positionAt(inner);
    }
    return this.positionAt(start);
  }

  /**
   * Finds where `value[offset]` is in the file. Quoted, plain and block scalars mostly keep the text
   * verbatim, so a short probe of the value is searched for in the node's source; when folding or
   * escapes changed it, the caller falls back to the start of the value.
   */
  private findInSource(node: Node, value: string, offset: number): number | undefined {
    const [start = 0, end = 0] = node.range ?? [];
    const source = this.text.slice(start, end);
    const lineEnd = value.indexOf('\n', offset);
    const probe = value.slice(
      offset,
      Math.min(offset + PROBE_LENGTH, lineEnd === -1 ? value.length : lineEnd),
    );
    if (probe === '') return undefined;
    let occurrence = 0;
    for (let at = value.indexOf(probe); at !== -1 && at < offset; at = value.indexOf(probe, at + 1))
      occurrence++;
    let found = -1;
    for (let i = 0; i <= occurrence; i++) {
      found = source.indexOf(probe, found + 1);
      if (found === -1) return undefined;
    }
    return start + found;
  }

  /** The source text of the value at `path`, trimmed; undefined when absent. */
  sourceOf(path: readonly PathSegment[]): string | undefined {
    const { node, complete } = this.resolve(path);
    if (!complete || !node?.range) return undefined;
    return this.text.slice(node.range[0], node.range[1]).trim();
  }
}
