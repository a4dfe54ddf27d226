import { type Context, Hono } from "hono";
import type { FieldReader } from "../lib/fields.ts";
import { type CheckInput, isHealthStatus, type NodeService, type RegisterRequest, type ServiceInput } from "../state/catalog-types.ts";
import { nodeJson, serviceJson, serviceNodeJson } from "../state/catalog-json.ts";
import { bodyFields, decodeFailed, jsonObjectBody, listFilters, pathTail } from "./decode.ts";
import type { AgentEnv } from "./env.ts";
import { allowLongPoll, checkDatacenter, queryOptions } from "./query.ts";
import { json, methodNotAllowed, setMeta, text } from "./respond.ts";

// /v1/catalog: the low-level register/deregister (no anti-entropy, no check runs) and the
// blocking reads. Lists are [] when empty; an unknown node is `null`, as in Consul.

function serviceInput(f: FieldReader): ServiceInput {
  const weights = f.obj("Weights");
  const taggedAddresses: ServiceInput["taggedAddresses"] = {};
  for (const [k, a] of f.objMap("TaggedAddresses")) taggedAddresses[k] = { address: a.str("Address"), port: a.int("Port") };
  return {
    id: f.str("ID"),
    service: f.str("Service"),
    tags: f.strList("Tags"),
    address: f.str("Address"),
    taggedAddresses,
    meta: f.strMap("Meta"),
    port: f.int("Port"),
    weights: weights ? { passing: weights.int("Passing"), warning: weights.int("Warning") } : { passing: 1, warning: 1 },
    enableTagOverride: f.bool("EnableTagOverride"),
  };
}

function checkInput(f: FieldReader, node: string): CheckInput {
  const status = f.str("Status") || "critical";
  if (!isHealthStatus(status)) throw decodeFailed(`invalid check status ${JSON.stringify(status)}`);
  const d = f.obj("Definition");
  return {
    node: f.str("Node") || node,
    checkId: f.str("CheckID"),
    name: f.str("Name"),
    status,
    notes: f.str("Notes"),
    output: f.str("Output"),
    serviceId: f.str("ServiceID"),
    type: f.str("Type") || (d?.str("HTTP") ? "http" : d?.str("TCP") ? "tcp" : ""),
    definition: {
      http: d?.str("HTTP") ?? "",
      header: (d?.get("Header") as Record<string, string[]> | undefined) ?? {},
      method: d?.str("Method") ?? "",
      body: d?.str("Body") ?? "",
      tlsServerName: d?.str("TLSServerName") ?? "",
      tlsSkipVerify: d?.bool("TLSSkipVerify") ?? false,
      tcp: d?.str("TCP") ?? "",
      intervalMs: d?.durationMs("Interval") ?? 0,
      timeoutMs: d?.durationMs("Timeout") ?? 0,
      deregisterCriticalServiceAfterMs: d?.durationMs("DeregisterCriticalServiceAfter") ?? 0,
    },
  };
}

async function register(c: Context<AgentEnv>): Promise<Response> {
  if (c.req.method !== "PUT") return methodNotAllowed(c, ["PUT"]);
  checkDatacenter(c);
  const f = bodyFields(await jsonObjectBody(c), "RegisterRequest");
  const node = f.str("Node");
  const svc = f.obj("Service");
  const check = f.obj("Check");
  const req: RegisterRequest = {
    node,
    id: f.str("ID"),
    address: f.str("Address"),
    datacenter: f.str("Datacenter"),
    taggedAddresses: f.strMap("TaggedAddresses"),
    nodeMeta: f.strMap("NodeMeta"),
    skipNodeUpdate: f.bool("SkipNodeUpdate"),
    service: svc ? serviceInput(svc) : undefined,
    checks: [...(check ? [check] : []), ...f.objList("Checks")].map((x) => checkInput(x, node)),
  };
  await c.var.agent.catalog().register(req);
  return json(c, true);
}

async function deregister(c: Context<AgentEnv>): Promise<Response> {
  if (c.req.method !== "PUT") return methodNotAllowed(c, ["PUT"]);
  checkDatacenter(c);
  const f = bodyFields(await jsonObjectBody(c), "DeregisterRequest");
  await c.var.agent.catalog().deregister({ node: f.str("Node"), serviceId: f.str("ServiceID"), checkId: f.str("CheckID") });
  return json(c, true);
}

export const catalogRoutes = new Hono<AgentEnv>()
  .all("/register", register)
  .all("/deregister", deregister)
  .get("/datacenters", async (c) => json(c, await c.var.agent.catalog().datacenters()))
  .get("/nodes", async (c) => {
    const q = queryOptions(c);
    allowLongPoll(c, q);
    const r = await c.var.agent.catalog().listNodes(q, listFilters(c), c.req.raw.signal);
    setMeta(c, r.meta);
    return json(c, r.nodes.map(nodeJson));
  })
  .get("/services", async (c) => {
    const q = queryOptions(c);
    allowLongPoll(c, q);
    const r = await c.var.agent.catalog().listServices(q, listFilters(c), c.req.raw.signal);
    setMeta(c, r.meta);
    return json(c, Object.fromEntries(r.services));
  })
  .get("/service/*", async (c) => {
    const name = pathTail(c, "/v1/catalog/service/");
    if (name === "") return text(c, 400, "Missing service name");
    const q = queryOptions(c);
    allowLongPoll(c, q);
    const r = await c.var.agent.catalog().serviceNodes(name, q, listFilters(c), c.req.raw.signal);
    setMeta(c, r.meta);
    return json(c, r.nodes.map(serviceNodeJson));
  })
  .get("/node/*", (c) => nodeServices(c, "/v1/catalog/node/", (services) => Object.fromEntries(services.map((s) => [s.id, serviceJson(s)]))))
  .get("/node-services/*", (c) => nodeServices(c, "/v1/catalog/node-services/", (services) => services.map(serviceJson)));

/** /catalog/node/<n> (services keyed by ID) and /catalog/node-services/<n> (a list). */
async function nodeServices(c: Context<AgentEnv>, prefix: string, shape: (services: NodeService[]) => unknown): Promise<Response> {
  const node = pathTail(c, prefix);
  if (node === "") return text(c, 400, "Missing node name");
  const q = queryOptions(c);
  allowLongPoll(c, q);
  const r = await c.var.agent.catalog().nodeServices(node, q, c.req.query("filter") ?? "", c.req.raw.signal);
  setMeta(c, r.meta);
  if (!r.node) return json(c, null);
  return json(c, { Node: nodeJson(r.node), Services: shape(r.services) });
}
