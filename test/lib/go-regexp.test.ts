import { describe, expect, test } from "bun:test";
import { goRegExp } from "../../src/lib/go-regexp.ts";

describe("goRegExp", () => {
  test("RE2 syntax JS spells differently", () => {
    expect(goRegExp("(?i)^WEB").test("web-1")).toBe(true);
    expect(goRegExp("(?P<role>db)-\\d+").exec("db-12")?.groups?.role).toBe("db");
    expect(goRegExp("\\Aa\\z").test("a")).toBe(true);
    expect(goRegExp("\\Aa\\z").test("ab")).toBe(false);
    expect(goRegExp("a\\-b").test("a-b")).toBe(true); // RE2 escapes any punctuation
  });

  test.each([
    ["(", "missing closing )"],
    [")", "unexpected )"],
    ["[a", "missing closing ]"],
    ["*", "missing argument to repetition operator"],
    ["a\\", "trailing backslash at end of expression"],
    ["[z-a]", "invalid character class range"],
  ])("%p fails as Go's regexp.Compile words it", (pattern, code) => {
    expect(() => goRegExp(pattern)).toThrow(`error parsing regexp: ${code}: \`${pattern}\``);
  });
});
