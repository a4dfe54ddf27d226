import { describe, expect, test } from "bun:test";
import type { ApiClient, BlockingResponse, Query } from "../../src/api/client.ts";
import { eventIndex } from "../../src/agent/events.ts";
import { watcherFor } from "../../src/watch/watchers.ts";

/** A client that answers blockingGet from `reply` and records the requests. */
function fakeClient(reply: (path: string, query: Query) => { status: number; index: bigint; body: unknown }) {
  const calls: Array<{ path: string; query: Query; index: bigint | undefined }> = [];
  const client = {
    async blockingGet(path: string, query: Query, index: bigint | undefined): Promise<BlockingResponse> {
      calls.push({ path, query, index });
      const r = reply(path, query);
      return { status: r.status, index: r.index, body: new TextEncoder().encode(typeof r.body === "string" ? r.body : JSON.stringify(r.body)) };
    },
  };
  return { client: client as unknown as ApiClient, calls };
}

const signal = new AbortController().signal;

describe("watchers", () => {
  test("key: a missing key is null; a pair comes in api.KVPair's field order", async () => {
    let status = 404;
    const { client, calls } = fakeClient(() =>
      status === 404 ? { status, index: 3n, body: "" } : { status, index: 8n, body: '[{"LockIndex":0,"Key":"a b","Flags":18446744073709551615,"Value":"dg==","CreateIndex":8,"ModifyIndex":8}]' },
    );
    const watch = watcherFor({ type: "key", key: "a b", stale: true }, client);
    expect(await watch(undefined, signal)).toEqual({ index: 3n, result: null });
    status = 200;
    const { result } = await watch(3n, signal);
    expect(Object.keys(result as object)).toEqual(["Key", "CreateIndex", "ModifyIndex", "LockIndex", "Flags", "Value", "Session"]);
    expect(result).toMatchObject({ Key: "a b", Flags: 18446744073709551615n, Session: "" });
    expect(calls.map((c) => [c.path, c.query, c.index])).toEqual([
      ["/v1/kv/a%20b", { stale: "" }, undefined],
      ["/v1/kv/a%20b", { stale: "" }, 3n],
    ]);
  });

  test("service: tags repeat and passing only is passing=1", async () => {
    const { client, calls } = fakeClient(() => ({ status: 200, index: 2n, body: [] }));
    await watcherFor({ type: "service", service: "web", tags: ["a", "b"], passingOnly: true, stale: false }, client)(undefined, signal);
    expect(calls[0]).toEqual({ path: "/v1/health/service/web", query: { tag: ["a", "b"], passing: "1" }, index: undefined });
  });

  test("checks: an unknown state fails as the Go client's does; an error status fails as Consul's", async () => {
    const { client } = fakeClient(() => ({ status: 500, index: 0n, body: "No cluster leader" }));
    await expect(watcherFor({ type: "checks", service: "", state: "sad", stale: false }, client)(undefined, signal)).rejects.toThrow("Unsupported state: sad");
    await expect(watcherFor({ type: "checks", service: "", state: "any", stale: false }, client)(undefined, signal)).rejects.toThrow("Unexpected response code: 500 (No cluster leader)");
  });

  test("event: only the events after the one the last answer ended with", async () => {
    const ids = ["5b2a1e8c-0d1f-4a57-9a3c-111111111111", "5b2a1e8c-0d1f-4a57-9a3c-222222222222", "5b2a1e8c-0d1f-4a57-9a3c-333333333333"];
    const events = ids.map((ID) => ({ ID, Name: "deploy" }));
    const { client, calls } = fakeClient(() => ({ status: 200, index: eventIndex(ids[2]!), body: events }));
    const watch = watcherFor({ type: "event", name: "deploy" }, client);
    expect((await watch(undefined, signal)).result).toEqual(events);
    expect((await watch(eventIndex(ids[0]!), signal)).result).toEqual(events.slice(1));
    // An index matching none of them (the buffer rolled over): everything.
    expect((await watch(42n, signal)).result).toEqual(events);
    expect(calls[0]!.path).toBe("/v1/event/list");
    expect(calls[0]!.query).toEqual({ name: "deploy" });
  });
});
