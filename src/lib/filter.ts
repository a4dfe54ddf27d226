// Consul's `?filter=` expressions (hashicorp/go-bexpr), evaluated against the JSON objects
// the API returns, so selectors are the response's own field names (`Service.Meta.env`,
// `ServiceTags`, `Checks.Status`, `Meta["rack"]`).
//
//   expr     := or
//   or       := and ("or" and)*
//   and      := unary ("and" unary)*
//   unary    := "not" unary | "(" expr ")" | match
//   match    := sel ("==" | "!=") value | sel "is" ["not"] "empty"
//             | value ["not"] "in" sel | sel ["not"] ("contains" | "matches") value
//   sel      := name ("." name | "[" string "]")*
//   value    := "string" | `raw string` | number | true | false | bare-word
//
// Where we differ from bexpr (which checks selectors against Go struct types): a selector
// that names nothing is simply empty (== false, != true, `is empty` true) rather than an
// error, and a selector that crosses a list (`Checks.Status`) yields the list of values, on
// which `==` and `matches` hold if any element does.

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterError";
  }
}

type Node =
  | { t: "or" | "and"; a: Node; b: Node }
  | { t: "not"; a: Node }
  | { t: "eq"; sel: string[]; value: string; neg: boolean }
  | { t: "empty"; sel: string[]; neg: boolean }
  | { t: "in"; sel: string[]; value: string; neg: boolean }
  | { t: "matches"; sel: string[]; re: RegExp; neg: boolean };

type Tok = { k: "word" | "str" | "op"; v: string; at: number };

const WORD = /[A-Za-z0-9_\-/.:+@]/;

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let s = "";
      const at = i++;
      for (;;) {
        if (i >= src.length) throw new FilterError(`1:${at + 1}: unterminated string`);
        const d = src[i++]!;
        if (d === '"') break;
        if (d === "\\") {
          const e = src[i++];
          const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
          if (e === undefined || !(e in map)) throw new FilterError(`1:${i}: invalid escape in string`);
          s += map[e];
        } else s += d;
      }
      out.push({ k: "str", v: s, at });
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) throw new FilterError(`1:${i + 1}: unterminated raw string`);
      out.push({ k: "str", v: src.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (src.startsWith("==", i) || src.startsWith("!=", i)) {
      out.push({ k: "op", v: src.slice(i, i + 2), at: i });
      i += 2;
    } else if (c === "(" || c === ")" || c === "[" || c === "]") {
      out.push({ k: "op", v: c, at: i++ });
    } else if (WORD.test(c)) {
      const at = i;
      while (i < src.length && WORD.test(src[i]!)) i++;
      out.push({ k: "word", v: src.slice(at, i), at });
    } else {
      throw new FilterError(`1:${i + 1}: unexpected character ${JSON.stringify(c)}`);
    }
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly src: string,
  ) {}

  parse(): Node {
    if (this.toks.length === 0) throw new FilterError("empty expression");
    const n = this.or();
    if (this.i < this.toks.length) this.fail("end of expression");
    return n;
  }

  private peek(): Tok | undefined {
    return this.toks[this.i];
  }

  private isWord(v: string, off = 0): boolean {
    const t = this.toks[this.i + off];
    return t?.k === "word" && t.v.toLowerCase() === v;
  }

  private fail(expected: string): never {
    const t = this.peek();
    const where = t ? `1:${t.at + 1}: unexpected ${JSON.stringify(t.v)}` : `1:${this.src.length + 1}: unexpected end of expression`;
    throw new FilterError(`${where}, expected ${expected}`);
  }

  private or(): Node {
    let n = this.and();
    while (this.isWord("or")) {
      this.i++;
      n = { t: "or", a: n, b: this.and() };
    }
    return n;
  }

  private and(): Node {
    let n = this.unary();
    while (this.isWord("and")) {
      this.i++;
      n = { t: "and", a: n, b: this.unary() };
    }
    return n;
  }

  private unary(): Node {
    if (this.isWord("not")) {
      this.i++;
      return { t: "not", a: this.unary() };
    }
    const t = this.peek();
    if (t?.k === "op" && t.v === "(") {
      this.i++;
      const n = this.or();
      if (this.peek()?.v !== ")") this.fail('")"');
      this.i++;
      return n;
    }
    return this.match();
  }

  private match(): Node {
    const t = this.peek();
    if (!t) this.fail("a selector or value");
    // `value [not] in selector` starts with a value; a quoted string can only be one.
    if (t.k === "str" || this.isWord("in", 1) || (this.isWord("not", 1) && this.isWord("in", 2))) {
      const value = this.value();
      const neg = this.isWord("not");
      if (neg) this.i++;
      if (!this.isWord("in")) this.fail('"in" or "not in"');
      this.i++;
      return { t: "in", sel: this.selector(), value, neg };
    }
    const sel = this.selector();
    const op = this.peek();
    if (op?.k === "op" && (op.v === "==" || op.v === "!=")) {
      this.i++;
      return { t: "eq", sel, value: this.value(), neg: op.v === "!=" };
    }
    if (this.isWord("is")) {
      this.i++;
      const neg = this.isWord("not");
      if (neg) this.i++;
      if (!this.isWord("empty")) this.fail('"empty"');
      this.i++;
      return { t: "empty", sel, neg };
    }
    const neg = this.isWord("not");
    if (neg) this.i++;
    if (this.isWord("contains")) {
      this.i++;
      return { t: "in", sel, value: this.value(), neg };
    }
    if (this.isWord("matches")) {
      this.i++;
      const at = this.peek()?.at ?? this.src.length;
      const pattern = this.value();
      try {
        return { t: "matches", sel, re: new RegExp(pattern), neg };
      } catch (err) {
        throw new FilterError(`1:${at + 1}: invalid regular expression: ${(err as Error).message}`);
      }
    }
    this.fail('"==", "!=", "is", "contains", "matches", "in"');
  }

  private selector(): string[] {
    const t = this.peek();
    if (t?.k !== "word" || /^(and|or|not|in|is)$/i.test(t.v)) this.fail("a selector");
    this.i++;
    const path = t.v.split(".");
    if (path.some((p) => p === "")) throw new FilterError(`1:${t.at + 1}: invalid selector ${JSON.stringify(t.v)}`);
    while (this.peek()?.v === "[") {
      this.i++;
      const key = this.peek();
      if (key?.k !== "str") this.fail("a quoted key");
      this.i++;
      if (this.peek()?.v !== "]") this.fail('"]"');
      this.i++;
      path.push(key.v);
      // `Meta["k"].more` continues with a dotted tail attached to the bracket.
      const next = this.peek();
      if (next?.k === "word" && next.v.startsWith(".") && next.at === this.toks[this.i - 1]!.at + 1) {
        this.i++;
        path.push(...next.v.slice(1).split("."));
      }
    }
    return path;
  }

  private value(): string {
    const t = this.peek();
    if (!t || t.k === "op") this.fail("a value");
    this.i++;
    return t.v;
  }
}

/** Follows a selector; crossing a list maps over it, so the result may be a list. */
function resolve(v: unknown, path: string[]): unknown {
  let cur: unknown = v;
  for (let i = 0; i < path.length; i++) {
    if (Array.isArray(cur)) return cur.map((x) => resolve(x, path.slice(i))).flat();
    if (typeof cur !== "object" || cur === null) return undefined;
    const obj = cur as Record<string, unknown>;
    const key = path[i]!;
    cur = key in obj ? obj[key] : obj[Object.keys(obj).find((k) => k.toLowerCase() === key.toLowerCase()) ?? ""];
  }
  return cur;
}

/** The literal compared as the field's own type, as bexpr coerces it. */
function equals(field: unknown, literal: string): boolean {
  if (typeof field === "string") return field === literal;
  if (typeof field === "number" || typeof field === "bigint") return literal.trim() !== "" && Number(literal) === Number(field);
  if (typeof field === "boolean") return literal.toLowerCase() === String(field);
  return false;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === "") return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

function contains(field: unknown, value: string): boolean {
  if (typeof field === "string") return field.includes(value);
  if (Array.isArray(field)) return field.some((x) => equals(x, value));
  if (typeof field === "object" && field !== null) return Object.hasOwn(field, value);
  return false;
}

function evaluate(n: Node, item: unknown): boolean {
  switch (n.t) {
    case "or":
      return evaluate(n.a, item) || evaluate(n.b, item);
    case "and":
      return evaluate(n.a, item) && evaluate(n.b, item);
    case "not":
      return !evaluate(n.a, item);
    case "eq": {
      const f = resolve(item, n.sel);
      const hit = Array.isArray(f) ? f.some((x) => equals(x, n.value)) : equals(f, n.value);
      return hit !== n.neg;
    }
    case "empty":
      return isEmpty(resolve(item, n.sel)) !== n.neg;
    case "in":
      return contains(resolve(item, n.sel), n.value) !== n.neg;
    case "matches": {
      const f = resolve(item, n.sel);
      const test = (x: unknown): boolean => typeof x === "string" && n.re.test(x);
      return (Array.isArray(f) ? f.some(test) : test(f)) !== n.neg;
    }
  }
}

/** Parses once; throws FilterError with a one-line reason on a syntax error. */
export function compileFilter(expr: string): (item: unknown) => boolean {
  const ast = new Parser(lex(expr), expr).parse();
  return (item) => evaluate(ast, item);
}
