import { Hono } from "hono";
import { eventIndex, userEventJson } from "../agent/events.ts";
import { parseDurationMs } from "../lib/duration.ts";
import { ConsulError } from "../lib/errors.ts";
import { pathTail } from "./decode.ts";
import type { AgentEnv } from "./env.ts";
import { checkDatacenter } from "./query.ts";
import { json, methodNotAllowed, text } from "./respond.ts";

// /v1/event: fire a user event (PUT /fire/<name>, the body is the payload) and list the ones
// this agent received (GET /list), as Consul's EventFire and EventList. The list is agent-local;
// its blocking index is the last event's ID folded to 64 bits, which is not monotonic, so a
// blocking call returns as soon as the index differs from the one given.

export const eventRoutes = new Hono<AgentEnv>()
  .all("/fire/*", async (c) => {
    if (c.req.method !== "PUT") return methodNotAllowed(c, ["PUT"]);
    checkDatacenter(c);
    const name = pathTail(c, "/v1/event/fire/");
    if (name === "") return text(c, 400, "Missing name");
    const body = new Uint8Array(await c.req.arrayBuffer());
    const event = await c.var.agent.fireEvent({
      name,
      payload: body.length > 0 ? body : null,
      nodeFilter: c.req.query("node") ?? "",
      serviceFilter: c.req.query("service") ?? "",
      tagFilter: c.req.query("tag") ?? "",
    });
    return json(c, userEventJson(event));
  })
  .all("/list", async (c) => {
    if (c.req.method !== "GET") return methodNotAllowed(c, ["GET"]);
    const { minIndex, waitMs } = parseWait(c.req.query("index"), c.req.query("wait"), c.var.agent.config.maxQueryTimeMs);
    const name = c.req.query("name") ?? "";
    const buffer = c.var.agent.events;
    const deadline = Date.now() + waitMs;
    if (minIndex > 0n) c.env.server?.timeout(c.req.raw, 0); // may outlive Bun's idle timeout
    for (;;) {
      const events = buffer.list(name);
      const last = events.at(-1);
      // A non-zero index even with no events keeps watchers from spinning.
      const index = last ? eventIndex(last.id) : 1n;
      const left = deadline - Date.now();
      if (minIndex === 0n || index !== minIndex || left <= 0) {
        c.header("X-Consul-Index", String(index));
        return json(c, events.map(userEventJson));
      }
      await buffer.waitNext(left, c.req.raw.signal);
      if (c.req.raw.signal.aborted) return c.body(null); // the caller is gone
    }
  });

/** Consul's parseWait: a uint64 ?index and a ?wait capped at max_query_time (its default when absent). */
function parseWait(index: string | undefined, wait: string | undefined, maxMs: number): { minIndex: bigint; waitMs: number } {
  let waitMs = maxMs;
  if (wait) {
    const ms = parseDurationMs(wait);
    if (ms === undefined) throw new ConsulError(400, "Invalid wait time");
    if (ms > 0) waitMs = Math.min(ms, maxMs);
  }
  let minIndex = 0n;
  if (index) {
    if (!/^\d+$/.test(index) || BigInt(index) > 0xffffffffffffffffn) throw new ConsulError(400, "Invalid index");
    minIndex = BigInt(index);
  }
  return { minIndex, waitMs };
}
