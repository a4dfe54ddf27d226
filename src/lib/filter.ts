import { parseGoBool } from "./go-bool.ts";
import { GoRegExpError, goRegExp } from "./go-regexp.ts";

// Consul's `?filter=` language: hashicorp/go-bexpr v0.1.2 (the version Consul pins), evaluated
// against the JSON an endpoint returns instead of the Go structs behind it.
//
//   expr   := and ("or" and)*            and := unary ("and" unary)*
//   unary  := "not" unary | "(" expr ")" | match
//   match  := sel ("==" | "!=") value | sel "is" ["not"] "empty"
//           | sel ["not"] ("contains" | "matches") value | value ["not"] "in" sel
//   sel    := ident ("." ident | "[" string "]")*          ident := [A-Za-z][A-Za-z0-9_]*
//   value  := sel (taken as its text) | number | "Go string" | `raw string`
//
// Semantics follow bexpr. Keys match exactly (bexpr uses Go field names, which are the JSON
// keys). The literal is converted to the type of the field it meets: numbers parse, booleans take
// Go's ParseBool spellings, anything else compares as a string. `in`/`contains` is element
// equality on a list, key membership on an object, substring on a string. A selector that
// crosses a list applies the whole test, negation included, to each element and holds if any
// element passes, so `Checks.Status != "passing"` means "some check is not passing" and is false
// when there are no checks. A missing key or null is absent: `==`, `in` and `matches` fail on it,
// `is empty` holds, and the negated forms give the opposite answer.
//
// Deviations: bexpr checks expressions against the Go types first and answers 400 for unknown
// fields, `==` on a list or object, `matches` on a non-string, or a literal that will not convert.
// With plain JSON we can only judge each value, so these tests simply fail (and their negations
// hold). We also allow `is empty` on strings (as later bexpr does) and `\"` inside double-quoted
// strings (bexpr ends a string at the first quote). `matches` on a missing key is false (bexpr
// says true). Regexes are RE2 in Go; we translate the common RE2-only forms (leading `(?flags)`,
// `(?P<name>`, `\A`, `\z`) and rely on JS agreeing on the rest.

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterError";
  }
}

type Tok =
  | { t: "sel"; path: string[]; text: string; at: number }
  | { t: "num" | "str" | "bad"; text: string; at: number }
  | { t: "==" | "!=" | "(" | ")" | "eof"; at: number };

/** The positive form of a match, applied where the selector lands (undefined when absent). */
type Test = (v: unknown) => boolean;

type Node =
  | { k: "or" | "and"; a: Node; b: Node }
  | { k: "not"; a: Node }
  | { k: "match"; path: string[]; test: Test; neg: boolean };

/** bexpr's position style: line:column (offset). */
function fail(src: string, at: number, msg: string): never {
  const before = src.slice(0, at);
  throw new FilterError(`${before.split("\n").length}:${at - before.lastIndexOf("\n")} (${at}): ${msg}`);
}

const WS = /[ \t\r\n]/;
const IDENT = /[A-Za-z][A-Za-z0-9_]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?/y;
const ESCAPE = /\\(x[0-9a-fA-F]{2}|[0-7]{3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[abfnrtv\\"])|\\/g;
const SIMPLE: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", '"': '"' };

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const ws = (): void => {
    while (i < src.length && WS.test(src[i]!)) i++;
  };
  const sticky = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(src)?.[0];
    if (m !== undefined) i += m.length;
    return m;
  };
  // A string literal at i, decoded the way Go's strconv.Unquote does.
  const str = (): string => {
    const at = i;
    if (src[i] === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) fail(src, at, "unterminated string literal");
      i = end + 1;
      return src.slice(at + 1, end).replaceAll("\r", "");
    }
    for (i++; src[i] !== '"'; i++) {
      if (i >= src.length) fail(src, at, "unterminated string literal");
      if (src[i] === "\n") fail(src, i, "newline in string literal");
      if (src[i] === "\\") i++;
    }
    const body = src.slice(at + 1, i++);
    return body.replace(ESCAPE, (_m, e: string | undefined, off: number) => {
      if (e === undefined) fail(src, at + 1 + off, "invalid escape in string literal");
      if (e.length === 1) return SIMPLE[e]!;
      const code = /^[0-7]/.test(e) ? parseInt(e, 8) : parseInt(e.slice(1), 16);
      if (code > 0x10ffff) fail(src, at + 1 + off, "invalid escape in string literal");
      return String.fromCodePoint(code);
    });
  };

  for (ws(); i < src.length; ws()) {
    const at = i;
    const c = src[i]!;
    if (c === '"' || c === "`") {
      toks.push({ t: "str", text: str(), at });
    } else if (c === "(" || c === ")") {
      toks.push({ t: c, at: i++ });
    } else if ((c === "=" || c === "!") && src[i + 1] === "=") {
      toks.push({ t: c === "=" ? "==" : "!=", at });
      i += 2;
    } else if (/[A-Za-z]/.test(c)) {
      const path = [sticky(IDENT)!];
      for (;;) {
        if (src[i] === ".") {
          i++;
          const id = sticky(IDENT);
          if (id === undefined) fail(src, i, "no match found, expected: identifier after \".\"");
          path.push(id);
        } else if (src[i] === "[") {
          i++;
          ws();
          if (src[i] !== '"' && src[i] !== "`") fail(src, i, "invalid index, expected a string literal");
          path.push(str());
          ws();
          if (src[i] !== "]") fail(src, i, 'unclosed index expression, expected "]"');
          i++;
        } else break;
      }
      toks.push({ t: "sel", path, text: path.join("."), at });
    } else if (sticky(NUMBER) !== undefined) {
      // Like bexpr, a number must end at whitespace, ")" or the end: `10.0.0.1` is no number.
      if (i < src.length && !WS.test(src[i]!) && src[i] !== ")") fail(src, at, "invalid number literal");
      toks.push({ t: "num", text: src.slice(at, i), at });
    } else {
      // Let the parser report it, so the message can say what was expected here.
      toks.push({ t: "bad", text: c, at });
      break;
    }
  }
  toks.push({ t: "eof", at: src.length });
  return toks;
}

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}

  parse(): Node {
    const n = this.or();
    if (this.peek().t !== "eof") this.fail(['"and"', '"or"', "end of input"]);
    return n;
  }

  private peek(k = 0): Tok {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  private kw(word: string, k = 0): boolean {
    const t = this.peek(k);
    return t.t === "sel" && t.path.length === 1 && t.path[0] === word;
  }

  private fail(expected: string[]): never {
    const t = this.peek();
    const found = t.t === "eof" ? "end of input" : JSON.stringify(this.src.slice(t.at).match(/^\S{1,20}/)?.[0] ?? "");
    fail(this.src, t.at, `no match found at ${found}, expected: ${expected.join(", ")}`);
  }

  private or(): Node {
    let a = this.and();
    while (this.kw("or")) {
      this.i++;
      a = { k: "or", a, b: this.and() };
    }
    return a;
  }

  private and(): Node {
    let a = this.unary();
    while (this.kw("and")) {
      this.i++;
      a = { k: "and", a, b: this.unary() };
    }
    return a;
  }

  private unary(): Node {
    if (this.kw("not")) {
      this.i++;
      return { k: "not", a: this.unary() };
    }
    if (this.peek().t === "(") {
      this.i++;
      const n = this.or();
      if (this.peek().t !== ")") this.fail(['")"', '"and"', '"or"']);
      this.i++;
      return n;
    }
    return this.match();
  }

  private match(): Node {
    const t = this.peek();
    const valueIn = this.kw("in", 1) || (this.kw("not", 1) && this.kw("in", 2));
    if (t.t === "sel" && !valueIn) {
      this.i++;
      const op = this.peek();
      if (op.t === "==" || op.t === "!=") {
        this.i++;
        return { k: "match", path: t.path, test: equalTest(this.value()), neg: op.t === "!=" };
      }
      if (this.kw("is")) {
        this.i++;
        const neg = this.kw("not");
        if (neg) this.i++;
        if (!this.kw("empty")) this.fail(neg ? ['"empty"'] : ['"empty"', '"not"']);
        this.i++;
        return { k: "match", path: t.path, test: isEmpty, neg };
      }
      const neg = this.kw("not");
      if (neg) this.i++;
      if (this.kw("contains")) {
        this.i++;
        return { k: "match", path: t.path, test: inTest(this.value()), neg };
      }
      if (this.kw("matches")) {
        this.i++;
        const at = this.peek().at;
        return { k: "match", path: t.path, test: matchesTest(this.value(), this.src, at), neg };
      }
      this.fail(neg ? ['"contains"', '"in"', '"matches"'] : ['"!="', '"=="', '"contains"', '"is"', '"matches"', '"not"']);
    }
    if (t.t === "str" || t.t === "num" || t.t === "sel") {
      const value = this.value();
      const neg = this.kw("not");
      if (neg) this.i++;
      if (!this.kw("in")) this.fail(neg ? ['"in"'] : ['"in"', '"not"']);
      this.i++;
      const sel = this.peek();
      if (sel.t !== "sel") this.fail(["selector"]);
      this.i++;
      return { k: "match", path: sel.path, test: inTest(value), neg };
    }
    this.fail(['"("', '"not"', "selector", "value"]);
  }

  private value(): string {
    const t = this.peek();
    if (t.t !== "str" && t.t !== "num" && t.t !== "sel") this.fail(["value"]);
    this.i++;
    return t.text;
  }
}

/** The literal as a number, as Go's ParseInt/ParseFloat would read it; NaN when it is none. */
function toNumber(lit: string): number {
  return /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$|^0[xob][0-9a-f]+$/i.test(lit) ? Number(lit) : NaN;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `==`: the literal converted to the field's own type, as bexpr coerces it. */
function equalTest(lit: string): Test {
  const num = toNumber(lit);
  const bool = parseGoBool(lit);
  return (v) => (typeof v === "string" ? v === lit : typeof v === "number" ? v === num : typeof v === "boolean" && v === bool);
}

function inTest(lit: string): Test {
  const eq = equalTest(lit);
  return (v) => (typeof v === "string" ? v.includes(lit) : Array.isArray(v) ? v.some(eq) : isObject(v) && Object.hasOwn(v, lit));
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === "string" || Array.isArray(v)) return v.length === 0;
  return isObject(v) && Object.keys(v).length === 0;
}

function matchesTest(pattern: string, src: string, at: number): Test {
  const re = compileMatches(pattern, src, at);
  return (v) => typeof v === "string" && re.test(v);
}

function compileMatches(pattern: string, src: string, at: number): RegExp {
  try {
    return goRegExp(pattern);
  } catch (err) {
    if (!(err instanceof GoRegExpError)) throw err;
    fail(src, at, `invalid regular expression ${JSON.stringify(pattern)}: ${err.message}`);
  }
}

/** Walks the selector; a list met on the way applies the rest to each element (any). */
function matchAt(n: { path: string[]; test: Test; neg: boolean }, v: unknown, depth: number): boolean {
  for (let i = depth; i < n.path.length; i++) {
    if (Array.isArray(v)) return v.some((x) => matchAt(n, x, i));
    const key = n.path[i]!;
    v = isObject(v) && Object.hasOwn(v, key) ? v[key] : undefined;
  }
  return n.test(v) !== n.neg;
}

function evaluate(n: Node, item: unknown): boolean {
  switch (n.k) {
    case "or":
      return evaluate(n.a, item) || evaluate(n.b, item);
    case "and":
      return evaluate(n.a, item) && evaluate(n.b, item);
    case "not":
      return !evaluate(n.a, item);
    case "match":
      return matchAt(n, item, 0);
  }
}

/** Parses once; throws FilterError with a one-line reason on a syntax error. */
export function compileFilter(expr: string): (item: unknown) => boolean {
  const ast = new Parser(expr, lex(expr)).parse();
  return (item) => evaluate(ast, item);
}
