import type { Context } from "hono";
import { ConsulError } from "../lib/errors.ts";
import { FieldReader, isObject } from "../lib/fields.ts";
import type { ListFilters } from "../server/endpoints/read.ts";
import type { AgentEnv } from "./env.ts";
import { splitUrl } from "./path.ts";

// Request bodies and list parameters, read as Consul's handlers read them: JSON field names
// case-insensitively, a body that does not decode is 400 "Request decode failed: <why>".

export function decodeFailed(why: string): ConsulError {
  return new ConsulError(400, `Request decode failed: ${why}`);
}

/** The JSON body; an empty body is `undefined` (some endpoints accept none). */
export async function jsonBody(c: Context<AgentEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw decodeFailed((err as Error).message);
  }
}

export async function jsonObjectBody(c: Context<AgentEnv>): Promise<Record<string, unknown>> {
  const body = await jsonBody(c);
  if (body === undefined) return {};
  if (!isObject(body)) throw decodeFailed("body must be a JSON object");
  return body;
}

/** A request body's fields, any key casing; a wrong type is 400 naming the field. */
export function bodyFields(obj: Record<string, unknown>, where: string): FieldReader {
  return new FieldReader(obj, where, { ignoreUnderscores: false, error: (w, name, want) => decodeFailed(`${w}.${name} must be ${want}`) });
}

/** ?tag= (repeatable), ?node-meta=k:v (repeatable) and ?filter=. */
export function listFilters(c: Context<AgentEnv>): ListFilters {
  const nodeMeta: Record<string, string> = {};
  for (const pair of c.req.queries("node-meta") ?? []) {
    const i = pair.indexOf(":");
    if (i < 0) nodeMeta[pair] = "";
    else nodeMeta[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return { tags: c.req.queries("tag") ?? [], nodeMeta, filter: c.req.query("filter") ?? "" };
}

/** The rest of the path after `prefix`, percent-decoded once (names may contain "/"). */
export function pathTail(c: Context<AgentEnv>, prefix: string): string {
  const { path } = splitUrl(c.req.url);
  const raw = path.startsWith(prefix) ? path.slice(prefix.length) : "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ConsulError(400, "Invalid URL escape");
  }
}
