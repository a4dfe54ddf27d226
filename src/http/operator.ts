import { Hono } from "hono";
import type { KeyringOp } from "../gossip/pool.ts";
import { keyringErrors } from "../agent/keyring.ts";
import { ConsulError } from "../lib/errors.ts";
import { parseGoBool } from "../lib/go-bool.ts";
import { bodyFields, jsonObjectBody } from "./decode.ts";
import type { AgentEnv } from "./env.ts";
import { json, methodNotAllowed } from "./respond.ts";

// /v1/operator: the gossip keyring (GET list, POST install, PUT use, DELETE remove), as
// Consul's OperatorKeyringEndpoint.

const KEYRING_OPS: Record<string, KeyringOp> = { GET: "list", POST: "install", PUT: "use", DELETE: "remove" };

export const operatorRoutes = new Hono<AgentEnv>().all("/keyring", async (c) => {
  const op = KEYRING_OPS[c.req.method];
  if (!op) return methodNotAllowed(c, ["GET", "POST", "PUT", "DELETE"]);
  let key = "";
  if (op !== "list") key = bodyFields(await jsonObjectBody(c), "body").str("Key");
  const relay = c.req.query("relay-factor");
  if (relay !== undefined && relay !== "") {
    if (!/^-?\d+$/.test(relay)) throw new ConsulError(400, `Error parsing relay factor: strconv.Atoi: parsing ${JSON.stringify(relay)}: invalid syntax`);
    const n = Number(relay);
    if (n < 0 || n > 5) throw new ConsulError(400, "Invalid relay-factor: Relay factor must be in range: [0, 5]");
  }
  const localOnlyText = c.req.query("local-only");
  let localOnly = false;
  if (localOnlyText !== undefined && localOnlyText !== "") {
    const parsed = parseGoBool(localOnlyText);
    if (parsed === undefined) throw new ConsulError(400, `Error parsing local-only: strconv.ParseBool: parsing ${JSON.stringify(localOnlyText)}: invalid syntax`);
    if (parsed && op !== "list") throw new ConsulError(400, "Invalid use of local-only: local-only can only be set for list requests");
    localOnly = parsed;
  }
  const responses = await c.var.agent.keyring(op, key, localOnly);
  const errors = keyringErrors(responses);
  if (errors !== "") throw new ConsulError(500, errors);
  return op === "list" ? json(c, responses) : c.body(null, 200);
});
