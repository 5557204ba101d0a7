// smol-toml reports where a syntax error is but not where each key is, and a validation
// error must name the line. This scanner walks an already-parsed (so valid) TOML text and
// records the line of every table header, key and array element, by key path.

/** Key path → 1-based line, e.g. ["jails","postfix","maxretry"] → 14. */
export class KeyLines {
  private readonly lines = new Map<string, number>();

  static scan(text: string): KeyLines {
    const index = new KeyLines();
    new Scanner(text, index).document();
    return index;
  }

  record(path: readonly (string | number)[], line: number): void {
    const k = pathKey(path);
    if (!this.lines.has(k)) this.lines.set(k, line);
  }

  /** The line of `path`, or of its nearest recorded ancestor (an inline table, an array). */
  lineOf(path: readonly (string | number)[]): number | undefined {
    for (let n = path.length; n > 0; n--) {
      const line = this.lines.get(pathKey(path.slice(0, n)));
      if (line !== undefined) return line;
    }
    return undefined;
  }
}

function pathKey(path: readonly (string | number)[]): string {
  return path.join('\u0000');
}

const BARE_KEY = /[A-Za-z0-9_-]/;

class Scanner {
  private pos = 0;
  private line = 1;
  private readonly tableArrays = new Map<string, number>();

  constructor(private readonly text: string, private readonly index: KeyLines) {}

  document(): void {
    let table: (string | number)[] = [];
    while (this.pos < this.text.length) {
      this.skipSpace(true);
      const c = this.text[this.pos];
      if (c === undefined) break;
      if (c === '[') {
        const isArray = this.text[this.pos + 1] === '[';
        this.pos += isArray ? 2 : 1;
        const headerLine = this.line;
        table = this.key();
        if (isArray) {
          // [[a]] appends an element: its keys live under a.<n>.
          const k = pathKey(table);
          const n = this.tableArrays.get(k) ?? 0;
          this.tableArrays.set(k, n + 1);
          table = [...table, n];
        }
        // [a.b] also defines a (if not defined before): an unknown `a` must still have a line.
        for (let n = 1; n <= table.length; n++) this.index.record(table.slice(0, n), headerLine);
        this.skipToLineEnd();
      } else {
        this.keyValue(table);
        this.skipToLineEnd();
      }
    }
  }

  /** `a.b = value`: records a, a.b, then scans the value. */
  private keyValue(base: readonly (string | number)[]): void {
    const keyLine = this.line;
    const key = this.key();
    if (key.length === 0) {
      this.pos++; // cannot happen in valid TOML; never loop forever
      return;
    }
    for (let n = 1; n <= key.length; n++) this.index.record([...base, ...key.slice(0, n)], keyLine);
    this.skipSpace(false);
    if (this.text[this.pos] === '=') this.pos++;
    this.value([...base, ...key]);
  }

  /** A dotted key: bare and quoted parts. Stops before `=` or `]`. */
  private key(): string[] {
    const parts: string[] = [];
    for (;;) {
      this.skipSpace(false);
      const c = this.text[this.pos];
      if (c === '"' || c === "'") parts.push(this.quotedKey(c));
      else {
        const start = this.pos;
        while (this.pos < this.text.length && BARE_KEY.test(this.text[this.pos]!)) this.pos++;
        if (this.pos === start) return parts;
        parts.push(this.text.slice(start, this.pos));
      }
      this.skipSpace(false);
      if (this.text[this.pos] !== '.') return parts;
      this.pos++;
    }
  }

  private quotedKey(quote: string): string {
    const start = ++this.pos;
    let out = '';
    while (this.pos < this.text.length && this.text[this.pos] !== quote) {
      if (quote === '"' && this.text[this.pos] === '\\') {
        // Good enough for locating keys: keep the escaped character as written.
        this.pos++;
      }
      out += this.text[this.pos++];
    }
    this.pos++;
    return quote === "'" ? this.text.slice(start, this.pos - 1) : out;
  }

  private value(path: (string | number)[]): void {
    this.skipSpace(false);
    const c = this.text[this.pos];
    if (c === '"' || c === "'") this.stringValue(c);
    else if (c === '[') this.arrayValue(path);
    else if (c === '{') this.inlineTable(path);
    else {
      while (this.pos < this.text.length && !',]}#\n'.includes(this.text[this.pos]!)) this.pos++;
    }
  }

  private arrayValue(path: (string | number)[]): void {
    this.pos++;
    for (let i = 0; ; i++) {
      this.skipSpace(true);
      const c = this.text[this.pos];
      if (c === undefined) return;
      if (c === ']') {
        this.pos++;
        return;
      }
      this.index.record([...path, i], this.line);
      this.value([...path, i]);
      this.skipSpace(true);
      if (this.text[this.pos] === ',') this.pos++;
    }
  }

  private inlineTable(path: (string | number)[]): void {
    this.pos++;
    for (;;) {
      this.skipSpace(true);
      const c = this.text[this.pos];
      if (c === undefined) return;
      if (c === '}') {
        this.pos++;
        return;
      }
      if (c === ',') {
        this.pos++;
        continue;
      }
      this.keyValue(path);
    }
  }

  private stringValue(quote: string): void {
    const triple = this.text.startsWith(quote.repeat(3), this.pos);
    this.pos += triple ? 3 : 1;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === '\\' && quote === '"') {
        if (this.text[this.pos + 1] === '\n') this.line++;
        this.pos += 2;
        continue;
      }
      if (c === '\n') this.line++;
      if (c === quote && (!triple || this.text.startsWith(quote.repeat(3), this.pos))) {
        this.pos += triple ? 3 : 1;
        // A multi-line string may end with up to two extra quotes: """a"""""
        while (triple && this.text[this.pos] === quote) this.pos++;
        return;
      }
      this.pos++;
    }
  }

  /** Skips blanks and comments; across newlines only when `newlines` is set. */
  private skipSpace(newlines: boolean): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '#') while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
      else if (c === '\n' && newlines) {
        this.pos++;
        this.line++;
      } else return;
    }
  }

  private skipToLineEnd(): void {
    while (this.pos < this.text.length && this.text[this.pos] !== '\n') {
      const c = this.text[this.pos]!;
      // A value's remainder (after a scalar) or a header's `]`; strings cannot start here in valid TOML.
      if (c === '"' || c === "'") this.stringValue(c);
      else this.pos++;
    }
  }
}
