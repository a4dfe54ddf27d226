import { describe, expect, test } from "bun:test";
import { countStatuses, decodeValue, rawFlags, worst } from "../../src/ui/values.ts";

describe("values", () => {
  test("status counts and the worst of them", () => {
    const c = countStatuses([{ Status: "passing" }, { Status: "warning" }, { Status: "passing" }, { Status: "bogus" }]);
    expect(c).toEqual({ passing: 2, warning: 1, critical: 0 });
    expect(worst(c)).toBe("warning");
    expect(worst({ passing: 0, warning: 0, critical: 0 })).toBe("none");
    expect(worst({ passing: 5, warning: 1, critical: 1 })).toBe("critical");
  });

  test("KV values: UTF-8 text, empty, and bytes that are not text", () => {
    expect(decodeValue(Buffer.from("héllo\n<b>").toString("base64"))).toEqual({ kind: "text", text: "héllo\n<b>" });
    expect(decodeValue(null)).toEqual({ kind: "text", text: "" });
    const bin = Buffer.from([0xff, 0x00, 0x10]).toString("base64");
    expect(decodeValue(bin)).toEqual({ kind: "binary", base64: bin, size: 3 });
    expect(decodeValue(Buffer.from("a\u0000b").toString("base64")).kind).toBe("binary");
  });

  test("uint64 flags are read exactly from the JSON text", () => {
    expect(rawFlags('[{"LockIndex":0,"Key":"k","Flags":3304740253564472344,"Value":null}]')).toBe("3304740253564472344");
    expect(rawFlags("[]")).toBe("0");
  });
});
