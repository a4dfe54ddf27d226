import { afterAll, expect, test } from "bun:test";
import { cleanupTempDirs, startAgent } from "./harness.ts";

// kill -9 in the middle of a write load: every write the agent acknowledged is there after
// a restart on the same data dir. Bounded: 1,500 writes at most, 8 s at most.

afterAll(cleanupTempDirs);

test("no acknowledged write is lost across kill -9 and restart", async () => {
  const first = await startAgent("127.0.0.23");
  const acked = new Map<string, string>();
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; i < 300 && !stop; i++) {
      const key = `dur/w${w}/k${i}`;
      try {
        const r = await fetch(`${first.url}/v1/kv/${key}`, { method: "PUT", body: `v${i}` });
        if (r.ok && (await r.text()) === "true") acked.set(key, `v${i}`);
      } catch {
        return; // the agent died under us; this write was never acknowledged
      }
    }
  };
  const writers = Promise.all([0, 1, 2, 3, 4].map(writer));
  const deadline = Date.now() + 8000;
  while (acked.size < 400 && Date.now() < deadline) await Bun.sleep(10);
  await first.kill9();
  stop = true;
  await writers;
  expect(acked.size).toBeGreaterThan(100);

  const second = await startAgent("127.0.0.23", { dataDir: first.dataDir });
  try {
    const r = await fetch(`${second.url}/v1/kv/dur/?recurse`);
    const entries = (await r.json()) as Array<{ Key: string; Value: string }>;
    const stored = new Map(entries.map((e) => [e.Key, Buffer.from(e.Value, "base64").toString()]));
    const lost = [...acked].filter(([k, v]) => stored.get(k) !== v);
    expect(lost).toEqual([]);
  } finally {
    await second.stop();
  }
});
