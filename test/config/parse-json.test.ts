import { describe, expect, test } from "bun:test";
import { parseJson } from "../../src/config/parse-json.ts";

function errorOf(text: string): string {
  const r = parseJson(text);
  if (r.ok) throw new Error("expected a syntax error");
  return r.error;
}

describe("parseJson", () => {
  test("valid JSON parses", () => {
    expect(parseJson('{"a": [1, -2.5e3, true, null, "x\\u00e9"]}')).toEqual({
      ok: true,
      value: { a: [1, -2500, true, null, "xé"] },
    });
  });

  const positions: Array<[string, string, string]> = [
    ["missing comma", '{\n  "a": 1\n  "b": 2\n}', 'line 3, column 3: invalid JSON (unexpected character "\\"")'],
    ["trailing comma", '{\n  "a": 1,\n}', 'line 3, column 1: invalid JSON (unexpected character "}")'],
    ["unquoted key", "{\n    bogus: 1\n}", 'line 2, column 5: invalid JSON (unexpected character "b")'],
    ["single quotes", "{'a': 1}", `line 1, column 2: invalid JSON (unexpected character "'")`],
    ["unterminated string", '{"a": "b', "line 1, column 9: invalid JSON (unexpected end of input)"],
    ["control character in string", '{"a": "b\tc"}', 'line 1, column 9: invalid JSON (unexpected character "\\t")'],
    ["bad escape", '{"a": "\\x"}', 'line 1, column 8: invalid JSON (unexpected character "\\\\")'],
    ["leading zero", '{"a": 01}', 'line 1, column 8: invalid JSON (unexpected character "1")'],
    ["bare word", '{"a": yes}', 'line 1, column 7: invalid JSON (unexpected character "y")'],
    ["comment", '{\n  // note\n  "a": 1\n}', 'line 2, column 3: invalid JSON (unexpected character "/")'],
    ["trailing garbage", '{"a": 1} x', 'line 1, column 10: invalid JSON (unexpected character "x")'],
    ["unclosed object", '{"a": 1', "line 1, column 8: invalid JSON (unexpected end of input)"],
    ["empty object key list", "{,}", 'line 1, column 2: invalid JSON (unexpected character ",")'],
  ];
  for (const [name, text, want] of positions) test(name, () => expect(errorOf(text)).toBe(want));

  test("past the nesting limit it gives the engine's description without a position", () => {
    expect(errorOf("[".repeat(600))).toMatch(/^invalid JSON \(.+\)$/);
  });
});
