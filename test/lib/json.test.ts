import { expect, test } from "bun:test";
import { goJson } from "../../src/lib/json.ts";

test("uint64 bigint prints exactly, bytes as base64, <>& escaped like Go", () => {
  const v = { Flags: 0x2ddccbc058a50c18n, Value: new Uint8Array([104, 105]), Key: "<a&b>", Gone: undefined, Null: null };
  expect(goJson(v)).toBe('{"Flags":3304740253564472344,"Value":"aGk=","Key":"\\u003ca\\u0026b\\u003e","Null":null}');
});

test("pretty output uses four spaces and a trailing newline", () => {
  expect(goJson({ a: [1, 2], b: {} }, true)).toBe('{\n    "a": [\n        1,\n        2\n    ],\n    "b": {}\n}\n');
  expect(goJson([], true)).toBe("[]\n");
});
