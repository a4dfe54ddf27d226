import { describe, expect, test } from "bun:test";
import { capTtlOutput, TailBuffer } from "../../../src/agent/checks/output.ts";

describe("TailBuffer", () => {
  test("keeps exactly the last bytes, whatever the chunking", () => {
    const all = Buffer.from(Array.from({ length: 300 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(""));
    for (const size of [1, 7, 64, 299, 300, 301]) {
      for (const step of [1, 3, 50, 64, 65, 300]) {
        const b = new TailBuffer(size);
        for (let i = 0; i < all.length; i += step) b.write(all.subarray(i, i + step));
        expect(b.total).toBe(300);
        expect(b.text()).toBe(all.subarray(Math.max(0, 300 - size)).toString());
      }
    }
  });

  test("announces truncation as Consul's script checks do", () => {
    const b = new TailBuffer(10);
    b.write(Buffer.from("abcdefghij0123456789"));
    expect(b.captured()).toBe("Captured 10 of 20 bytes\n...\n0123456789");
    const small = new TailBuffer(10);
    small.write(Buffer.from("short"));
    expect(small.captured()).toBe("short");
  });
});

test("capTtlOutput keeps the head with Consul's note after it", () => {
  expect(capTtlOutput("hello", 10)).toBe("hello");
  expect(capTtlOutput("0123456789abc", 10)).toBe("0123456789 ... (captured 10 of 13 bytes)");
});
