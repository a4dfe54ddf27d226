import { type Context, Hono } from "hono";
import { ConsulError } from "../lib/errors.ts";
import type { KvEntry } from "../state/kvs.ts";
import type { AgentEnv } from "./env.ts";
import { splitUrl } from "./path.ts";
import { allowLongPoll, checkDatacenter, flag, queryOptions, uint64Param } from "./query.ts";
import { json, methodNotAllowed, setMeta, text } from "./respond.ts";

// /v1/kv/<key>: GET (recurse, keys, separator, raw, blocking), PUT (flags, cas, acquire,
// release; raw body), DELETE (recurse, cas). Answers, texts and codes as Consul's.

/** An entry as Consul's api.KVPair writes it; Session only when a session holds the key. */
export function kvEntryJson(e: KvEntry): Record<string, unknown> {
  return {
    LockIndex: e.lockIndex,
    Key: e.key,
    Flags: e.flags,
    Value: e.value,
    Session: e.session === "" ? undefined : e.session,
    CreateIndex: e.createIndex,
    ModifyIndex: e.modifyIndex,
  };
}

/** The key: the raw path after /v1/kv/, percent-decoded once ("//" was collapsed at the edge). */
function keyOf(c: Context<AgentEnv>): string {
  const { path } = splitUrl(c.req.url);
  const raw = path.startsWith("/v1/kv/") ? path.slice("/v1/kv/".length) : "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ConsulError(400, "Invalid URL escape in key");
  }
}

function conflicting(c: Context<AgentEnv>, names: string[]): Response | undefined {
  if (names.filter((n) => flag(c, n)).length < 2) return undefined;
  return text(c, 400, `Conflicting flags: ${new URL(c.req.url).searchParams.toString()}\n`);
}

async function get(c: Context<AgentEnv>): Promise<Response> {
  const key = keyOf(c);
  const q = queryOptions(c);
  allowLongPoll(c, q);
  const kvs = c.var.agent.kvs();
  const signal = c.req.raw.signal;
  if (flag(c, "keys")) {
    const sep = c.req.query("separator") ?? c.req.query("seperator") ?? "";
    const r = await kvs.listKeys(key, sep, q, signal);
    setMeta(c, r.meta);
    if (r.keys.length === 0 && key !== "") return c.body(null, 404);
    return json(c, r.keys);
  }
  const recurse = flag(c, "recurse");
  if (!recurse && key === "") throw new ConsulError(400, "Missing key name");
  const r = recurse ? await kvs.list(key, q, signal) : await kvs.get(key, q, signal);
  setMeta(c, r.meta);
  if (r.entries.length === 0) return c.body(null, 404);
  if (!recurse && flag(c, "raw")) {
    // Stored values are untrusted: never let a browser sniff or run them.
    return c.body((r.entries[0]!.value ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": "text/plain",
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": "sandbox",
    });
  }
  return json(c, r.entries.map(kvEntryJson));
}

async function put(c: Context<AgentEnv>): Promise<Response> {
  checkDatacenter(c);
  const key = keyOf(c);
  if (key === "") throw new ConsulError(400, "Missing key name");
  const conflict = conflicting(c, ["cas", "acquire", "release"]);
  if (conflict) return conflict;
  const flags = uint64Param(c, "flags") ?? 0n;
  const cas = uint64Param(c, "cas");
  const acquire = c.req.query("acquire");
  const release = c.req.query("release");
  const max = c.var.agent.config.limits.kvMaxValueSize;
  const declared = Number(c.req.header("Content-Length") ?? 0);
  if (declared > max) throw tooLarge(declared, max);
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.length > max) throw tooLarge(body.length, max);
  const op = cas !== undefined ? "cas" : acquire !== undefined ? "lock" : release !== undefined ? "unlock" : "set";
  const ok = await c.var.agent.kvs().apply({
    op,
    key,
    flags,
    value: body,
    session: acquire ?? release ?? "",
    casIndex: cas === undefined ? 0 : bigToIndex(cas),
  });
  return json(c, op === "set" ? true : ok);
}

async function del(c: Context<AgentEnv>): Promise<Response> {
  checkDatacenter(c);
  const key = keyOf(c);
  const conflict = conflicting(c, ["recurse", "cas"]);
  if (conflict) return conflict;
  const recurse = flag(c, "recurse");
  if (!recurse && key === "") throw new ConsulError(400, "Missing key name");
  const cas = uint64Param(c, "cas");
  const op = cas !== undefined ? "delete-cas" : recurse ? "delete-tree" : "delete";
  const ok = await c.var.agent.kvs().apply({ op, key, flags: 0n, value: null, session: "", casIndex: cas === undefined ? 0 : bigToIndex(cas) });
  return json(c, op === "delete-cas" ? ok : true);
}

/** A CAS index beyond any Raft index can never match; map it to one that cannot either. */
function bigToIndex(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

function tooLarge(size: number, max: number): ConsulError {
  return new ConsulError(
    413,
    `Request body(${size} bytes) too large, max size: ${max} bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.`,
  );
}

export const kv = new Hono<AgentEnv>().all("/*", (c) => {
  switch (c.req.method) {
    case "GET":
    case "HEAD":
      return get(c);
    case "PUT":
      return put(c);
    case "DELETE":
      return del(c);
    default:
      return methodNotAllowed(c, ["GET", "PUT", "DELETE"]);
  }
});
