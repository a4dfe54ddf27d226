// JSON.parse for config files, with the line and column of a syntax error: JavaScriptCore's
// messages ("JSON Parse error: Expected '}'") carry no position, and a person fixing a file
// needs one. The scanner below only runs after JSON.parse has failed, to find where and what.

export type JsonResult = { ok: true; value: unknown } | { ok: false; error: string };

// Beyond this nesting the scanner gives up on a position rather than risk the stack.
const DEPTH_MAX = 512;
const numberFormat = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function parseJson(text: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const offset = new Scanner(text).firstErrorOffset();
    if (offset === undefined) {
      // JavaScriptCore's own words are the fallback only: they often misdescribe the problem
      // ("Expected '}'" for an unquoted key).
      const detail = (e instanceof Error ? e.message : String(e)).replace(/^JSON Parse error: /, "");
      return { ok: false, error: `invalid JSON (${detail})` };
    }
    const found = offset < text.length ? `unexpected character ${JSON.stringify(text[offset])}` : "unexpected end of input";
    return { ok: false, error: `${lineColumn(text, offset)}: invalid JSON (${found})` };
  }
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `line ${line}, column ${column}`;
}

/** A validating JSON grammar walk (RFC 8259) that stops at the first offending character. */
class Scanner {
  private i = 0;
  private tooDeep = false;
  constructor(private readonly s: string) {}

  /** Offset of the first character that breaks the grammar; undefined if none is found. */
  firstErrorOffset(): number | undefined {
    if (!this.value(0)) return this.tooDeep ? undefined : this.i;
    this.ws();
    return this.i < this.s.length ? this.i : undefined;
  }

  private ws(): void {
    while (this.i < this.s.length && " \t\n\r".includes(this.s[this.i]!)) this.i++;
  }

  private value(depth: number): boolean {
    this.ws();
    const c = this.s[this.i];
    if (c === "{" || c === "[") {
      if (depth >= DEPTH_MAX) this.tooDeep = true;
      return !this.tooDeep && this.container(c, depth + 1);
    }
    if (c === '"') return this.string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    for (const literal of ["true", "false", "null"]) {
      if (this.s.startsWith(literal, this.i)) {
        this.i += literal.length;
        return true;
      }
    }
    return false;
  }

  private container(open: "{" | "[", depth: number): boolean {
    const close = open === "{" ? "}" : "]";
    this.i++;
    this.ws();
    if (this.s[this.i] === close) return this.advance();
    for (;;) {
      if (open === "{") {
        this.ws();
        if (this.s[this.i] !== '"' || !this.string()) return false;
        this.ws();
        if (this.s[this.i] !== ":") return false;
        this.i++;
      }
      if (!this.value(depth)) return false;
      this.ws();
      if (this.s[this.i] === close) return this.advance();
      if (this.s[this.i] !== ",") return false;
      this.i++;
    }
  }

  private string(): boolean {
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '"') return this.advance();
      if (c < " ") return false;
      if (c === "\\") {
        const e = this.s[this.i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) return false;
          this.i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return false;
        this.i += 2;
        continue;
      }
      this.i++;
    }
    return false;
  }

  private number(): boolean {
    numberFormat.lastIndex = this.i;
    const m = numberFormat.exec(this.s);
    if (!m) return false;
    this.i += m[0].length;
    return true;
  }

  private advance(): true {
    this.i++;
    return true;
  }
}
