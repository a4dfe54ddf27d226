import { type Context, Hono } from "hono";
import { ConsulError } from "../lib/errors.ts";
import { field, isObject, parseJsonKeepingBigInts } from "../lib/fields.ts";
import type { KvTxnOp } from "../state/txn.ts";
import type { AgentEnv } from "./env.ts";
import { kvEntryJson } from "./kv.ts";
import { checkDatacenter, queryOptions } from "./query.ts";
import { json, methodNotAllowed } from "./respond.ts";

// PUT /v1/txn: up to 128 KV operations applied atomically; 200 with Results when all
// succeed, 409 with Errors (and nothing changed) when any fails.

const MAX_OPS = 128;

function bad(msg: string): ConsulError {
  return new ConsulError(400, `Failed to parse body: ${msg}`);
}

function parseOps(body: unknown, maxValue: number): KvTxnOp[] {
  if (!Array.isArray(body)) throw bad("expected a JSON array of operations");
  if (body.length > MAX_OPS) throw new ConsulError(413, `Transaction contains too many operations (${body.length} > ${MAX_OPS})`);
  return body.map((raw, i) => {
    if (!isObject(raw)) throw bad(`operation ${i} is not an object`);
    const kv = field(raw, "KV");
    if (!isObject(kv)) {
      const kinds = Object.keys(raw).join(", ") || "none";
      throw bad(`operation ${i}: only KV operations are supported (got ${kinds})`);
    }
    const key = String(field(kv, "Key") ?? "");
    const value = decodeValue(field(kv, "Value"), i);
    if (value && value.length > maxValue) {
      throw new ConsulError(413, `Value for key "${key}" is too large (${value.length} > ${maxValue} bytes)`);
    }
    return {
      verb: String(field(kv, "Verb") ?? ""),
      key,
      value,
      flags: toUint(field(kv, "Flags"), "Flags", i),
      index: Number(toUint(field(kv, "Index"), "Index", i)),
      session: String(field(kv, "Session") ?? ""),
    };
  });
}

function decodeValue(v: unknown, i: number): Uint8Array | null {
  if (v === undefined || v === null || v === "") return null;
  if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) {
    throw bad(`operation ${i}: Value must be base64`);
  }
  return new Uint8Array(Buffer.from(v, "base64"));
}

function toUint(v: unknown, name: string, i: number): bigint {
  if (v === undefined || v === null) return 0n;
  const s = String(v);
  if (!/^\d{1,20}$/.test(s) || BigInt(s) > 0xffffffffffffffffn) throw bad(`operation ${i}: ${name} must be an unsigned integer`);
  return BigInt(s);
}

async function txn(c: Context<AgentEnv>): Promise<Response> {
  checkDatacenter(c);
  const { txnMaxReqLen, kvMaxValueSize } = c.var.agent.config.limits;
  const max = Math.max(txnMaxReqLen, kvMaxValueSize);
  const declared = Number(c.req.header("Content-Length") ?? 0);
  const tooLarge = (n: number): ConsulError =>
    new ConsulError(413, `Request body(${n} bytes) too large, max size: ${max} bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#txn_max_req_len.`);
  if (declared > max) throw tooLarge(declared);
  // The limit is in bytes; a chunked body has no Content-Length to check up front.
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.length > max) throw tooLarge(bytes.length);
  const textBody = new TextDecoder().decode(bytes);
  let parsed: unknown;
  try {
    parsed = parseJsonKeepingBigInts(textBody, ["Flags", "Index"]);
  } catch (err) {
    throw bad((err as Error).message);
  }
  const ops = parseOps(parsed, kvMaxValueSize);
  const { meta, outcome } = await c.var.agent.kvs().txn(ops, queryOptions(c));
  const body: Record<string, unknown> = outcome.ok
    ? { Results: outcome.results.map((e) => ({ KV: kvEntryJson(e) })), Errors: null }
    : { Results: null, Errors: outcome.errors.map((e) => ({ OpIndex: e.opIndex, What: e.what })) };
  if (meta) {
    // A read-only transaction answers as a query: leader headers (no index), and Consul's
    // embedded QueryMeta fields after Errors.
    c.header("X-Consul-KnownLeader", meta.knownLeader ? "true" : "false");
    c.header("X-Consul-LastContact", String(meta.lastContactMs));
    Object.assign(body, { Index: 0, LastContact: meta.lastContactMs, KnownLeader: meta.knownLeader, ConsistencyLevel: "", NotModified: false, Backend: 0, ResultsFilteredByACLs: false });
  }
  return json(c, body, outcome.ok ? 200 : 409);
}

export const txnRoutes = new Hono<AgentEnv>().all("/", (c) => (c.req.method === "PUT" ? txn(c) : methodNotAllowed(c, ["PUT"])));
