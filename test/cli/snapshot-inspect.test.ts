import { describe, expect, test } from "bun:test";
import { byteSize, inspectJson, inspectPretty } from "../../src/cli/snapshot/inspect-format.ts";
import { tabwrite } from "../../src/cli/tabwriter.ts";
import type { SnapshotMeta } from "../../src/server/snapshot-archive.ts";

// `snapshot inspect` layout, checked against the output of Consul's own formatter for the
// same numbers (command/snapshot/inspect testdata).

const meta = (id: string, size: number, index: number, term: number): SnapshotMeta => ({
  Version: 1,
  ID: id,
  Index: index,
  Term: term,
  Peers: null,
  Configuration: { Servers: [] },
  ConfigurationIndex: 0,
  Size: size,
});

describe("snapshot inspect output", () => {
  test("meta rows and the type table, aligned as Consul's tabwriter aligns them", () => {
    const stats = [
      { Name: "Register", Sum: 1741, Count: 3 },
      { Name: "ConnectCA", Sum: 1229, Count: 1 },
      { Name: "ConnectCAProviderState", Sum: 1126, Count: 1 },
      { Name: "Index", Sum: 344, Count: 12 },
      { Name: "Autopilot", Sum: 199, Count: 1 },
      { Name: "ConnectCAConfig", Sum: 197, Count: 1 },
      { Name: "FederationState", Sum: 139, Count: 1 },
      { Name: "SystemMetadata", Sum: 68, Count: 1 },
      { Name: "ChunkingState", Sum: 12, Count: 1 },
    ];
    expect(`${inspectPretty(meta("2-13-1602222343947", 5141, 13, 2), { stats, totalSize: 5120, statsKv: undefined, totalSizeKv: 0 })}\n`).toBe(
      [
        " ID           2-13-1602222343947",
        " Size         5141",
        " Index        13",
        " Term         2",
        " Version      1",
        "",
        " Type                        Count      Size",
        " ----                        ----       ----",
        " Register                    3          1.7KB",
        " ConnectCA                   1          1.2KB",
        " ConnectCAProviderState      1          1.1KB",
        " Index                       12         344B",
        " Autopilot                   1          199B",
        " ConnectCAConfig             1          197B",
        " FederationState             1          139B",
        " SystemMetadata              1          68B",
        " ChunkingState               1          12B",
        " ----                        ----       ----",
        " Total                                  5KB",
        "",
      ].join("\n"),
    );
  });

  test("with -kvdetails a key table follows, aligned on its own", () => {
    const stats = [
      { Name: "KVS", Sum: 12595, Count: 27 },
      { Name: "Tombstone", Sum: 146, Count: 2 },
    ];
    const statsKv = [
      { Name: "vault/logical/0989e79e-06cd-5374-c8c0-4c6d675bc1c9", Sum: 1843, Count: 3 },
      { Name: "vault/logical/5c018b68-3573-41d3-0c33-04bce60cd6b0", Sum: 210, Count: 1 },
    ];
    const text = inspectPretty(meta("2-12426-1604593650375", 17228, 12426, 2), { stats, totalSize: 12741, statsKv, totalSizeKv: 2053 });
    expect(text.split("\n").slice(6)).toEqual([
      " Type           Count      Size",
      " ----           ----       ----",
      " KVS            27         12.3KB",
      " Tombstone      2          146B",
      " ----           ----       ----",
      " Total                     12.4KB",
      "",
      " Key Name                                                Count      Size",
      " ----                                                    ----       ----",
      " vault/logical/0989e79e-06cd-5374-c8c0-4c6d675bc1c9      3          1.8KB",
      " vault/logical/5c018b68-3573-41d3-0c33-04bce60cd6b0      1          210B",
      " ----                                                    ----       ----",
      " Total                                                              2KB",
    ]);
  });

  test("-format json is Go's MarshalIndent with three spaces", () => {
    const json = inspectJson(meta("one", 2, 3, 4), { stats: [{ Name: "msg", Sum: 1, Count: 2 }], totalSize: 1, statsKv: undefined, totalSizeKv: 0 });
    expect(json).toBe(
      '{\n   "Meta": {\n      "ID": "one",\n      "Size": 2,\n      "Index": 3,\n      "Term": 4,\n      "Version": 1\n   },\n   "Stats": [\n      {\n         "Name": "msg",\n         "Sum": 1,\n         "Count": 2\n      }\n   ],\n   "StatsKV": null,\n   "TotalSize": 1,\n   "TotalSizeKV": 0\n}',
    );
  });

  test.each([
    [0, "0"],
    [1, "1B"],
    [1023, "1023B"],
    [1024, "1KB"],
    [1741, "1.7KB"],
    [5 * 1024 * 1024 + 1, "5MB"],
    [3 * 2 ** 30, "3GB"],
  ])("byteSize(%d) = %s", (n, want) => {
    expect(byteSize(n)).toBe(want);
  });

  test("tabwriter: a line without a cell in a column ends that column's block", () => {
    expect(tabwrite("a\tb\nlonger\tc\n\nx\ty", { minWidth: 0, padding: 1 })).toBe("a      b\nlonger c\n\nx y");
    expect(tabwrite("a\tb\tc\naaaa\tb", { minWidth: 0, padding: 1 })).toBe("a    b c\naaaa b");
  });
});
