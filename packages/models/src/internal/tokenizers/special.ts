// Special ("added") tokens such as [CLS] or <|endoftext|> are found in the raw text before anything
// else runs, as Hugging Face tokenizers does, so "a [SEP] b" gives the [SEP] id rather than
// "[", "sep", "]". Matching is leftmost-longest on the original text.

/** A piece of input text: either ordinary text or one special token. */
export type TextSegment = { text: string; start: number; special?: undefined } | { text: string; start: number; special: number };

export class SpecialTokenSplitter {
  private readonly pattern: RegExp | null;
  private readonly ids: Map<string, number>;

  constructor(tokens: ReadonlyMap<string, number>) {
    this.ids = new Map([...tokens].filter(([t]) => t.length > 0));
    const sorted = [...this.ids.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
    // Longest alternatives first: JS alternation takes the first that matches at a position.
    this.pattern = sorted.length ? new RegExp(sorted.map(escapeRegExp).join('|'), 'gu') : null;
  }

  /** Splits `text` into ordinary segments and special tokens, keeping UTF-16 positions. */
  split(text: string): TextSegment[] {
    if (this.pattern === null || text.length === 0) return [{ text, start: 0 }];
    const out: TextSegment[] = [];
    let last = 0;
    this.pattern.lastIndex = 0;
    for (let m = this.pattern.exec(text); m !== null; m = this.pattern.exec(text)) {
      if (m.index > last) out.push({ text: text.slice(last, m.index), start: last });
      out.push({ text: m[0], start: m.index, special: this.ids.get(m[0])! });
      last = m.index + m[0].length;
    }
    if (last < text.length || out.length === 0) out.push({ text: text.slice(last), start: last });
    return out;
  }

  /** The tokens it finds. */
  get tokens(): ReadonlySet<string> {
    return new Set(this.ids.keys());
  }

  /** Ids of the special tokens. */
  get specialIds(): ReadonlySet<number> {
    return new Set(this.ids.values());
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
