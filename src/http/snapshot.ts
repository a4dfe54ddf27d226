import { Hono } from "hono";
import type { QueryOptions } from "../server/query.ts";
import type { AgentEnv } from "./env.ts";
import { checkDatacenter, flag } from "./query.ts";
import { methodNotAllowed, setMeta } from "./respond.ts";

// /v1/snapshot: GET answers an archive of the servers' whole state (from the leader after a
// consistent read, or from any server with ?stale); PUT restores one from the body. Consul
// reads only dc, token and stale here.

export const snapshotRoutes = new Hono<AgentEnv>().all("/", async (c) => {
  if (c.req.method !== "GET" && c.req.method !== "PUT") return methodNotAllowed(c, ["GET", "PUT"]);
  checkDatacenter(c);
  const q: QueryOptions = { minIndex: 0, maxWaitMs: 0, consistency: flag(c, "stale") ? "stale" : "default" };
  // A large state takes longer than Bun's idle timeout to copy, on either side.
  c.env.server?.timeout(c.req.raw, 0);
  const snapshots = c.var.agent.snapshot();
  if (c.req.method === "GET") {
    const { meta, archive } = await snapshots.save(q);
    setMeta(c, meta);
    // Go's net/http names a gzip body so when Consul writes it without a Content-Type.
    return c.body(archive as Uint8Array<ArrayBuffer>, 200, { "Content-Type": "application/x-gzip" });
  }
  await snapshots.restore(new Uint8Array(await c.req.arrayBuffer()), q);
  return c.body(null, 200);
});
