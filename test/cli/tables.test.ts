import { describe, expect, test } from "bun:test";
import { columnize } from "../../src/cli/columnize.ts";

describe("CLI tables in Consul's layout", () => {
  test("columnize pads all but the last column and trims only the whole table", () => {
    expect(columnize([["a", "bb", "c"], ["ccc", "d", ""]])).toBe("a    bb  c\nccc  d");
    expect(columnize([["x", ""], ["yy", "z"]])).toBe("x   \nyy  z");
  });
});
