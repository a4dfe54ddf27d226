import { expect, test } from "bun:test";
import { goFloat, goPercentS, goSharpV } from "../../src/lib/go-format.ts";

test("goSharpV prints decoded JSON as Go's %#v", () => {
  expect(goSharpV({})).toBe("map[string]interface {}{}");
  expect(goSharpV({ b: true, a: "x", c: null })).toBe('map[string]interface {}{"a":"x", "b":true, "c":interface {}(nil)}');
  expect(goSharpV({ l: [1, "two", { k: 2.5 }] })).toBe('map[string]interface {}{"l":[]interface {}{1, "two", map[string]interface {}{"k":2.5}}}');
  expect(goSharpV(new Map([["z", 1], ["y", 2]]))).toBe('map[string]interface {}{"y":2, "z":1}');
});

test("goFloat: shortest digits, exponent form as %g switches to it", () => {
  const cases: Array<[number, string]> = [[0, "0"], [1, "1"], [-2.5, "-2.5"], [123456, "123456"], [1e6, "1e+06"], [1234567, "1.234567e+06"], [0.0001, "0.0001"], [0.00001, "1e-05"], [1e21, "1e+21"]];
  for (const [n, want] of cases) expect(goFloat(n)).toBe(want);
});

test("goPercentS flags what is not a string", () => {
  expect(goPercentS("email")).toBe("email");
  expect(goPercentS(1)).toBe("%!s(float64=1)");
  expect(goPercentS(false)).toBe("%!s(bool=false)");
  expect(goPercentS(null)).toBe("%!s(<nil>)");
});
