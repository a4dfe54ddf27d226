import { getJson } from "../api.ts";
import type { Ctx } from "../ctx.ts";
import { h, replaceChildren } from "../dom.ts";
import { href } from "../route.ts";
import { countStatuses, worst } from "../values.ts";
import { api, type CheckJson, checksTable, detailFrame, healthCounts, live, matches, searchBox, tagList } from "./common.ts";

// /ui/<dc>/nodes and /ui/<dc>/nodes/<node>, from /v1/internal/ui/nodes and /node/<node>.

interface NodeInfo {
  ID: string;
  Node: string;
  Address: string;
  Meta: Record<string, string> | null;
  Services: Array<{ ID: string; Service: string; Tags: string[] | null; Address: string; Port: number }>;
  Checks: CheckJson[];
}

/** The leader's address, to mark its node as Consul's list does; "" when unknown. */
async function leaderAddress(ctx: Ctx): Promise<string> {
  const r = await getJson<string>(api(ctx, "/v1/status/leader"), ctx.signal).catch(() => undefined);
  return (r?.body ?? "").replace(/:\d+$/, "");
}

export function nodesPage(ctx: Ctx): void {
  document.title = "Nodes - tsc";
  const list = h("div", { class: "list", id: "nodes" });
  let rows: NodeInfo[] = [];
  let leader = "";
  const draw = () => {
    const shown = rows.filter((n) => matches(search.value, n.Node, n.Address));
    replaceChildren(list, ...(shown.length > 0 ? shown.map((n) => nodeRow(ctx, n, leader)) : [h("p", { class: "muted empty" }, rows.length === 0 ? "No nodes." : "No nodes match.")]));
    count.textContent = `${rows.length}`;
  };
  const search = searchBox("Search by name or address", draw);
  const count = h("span", { class: "count" });
  replaceChildren(ctx.main, h("h1", {}, "Nodes ", count), search, list);
  void leaderAddress(ctx).then((a) => {
    leader = a;
    draw();
  });
  live<NodeInfo[]>(ctx, "/v1/internal/ui/nodes", (r) => {
    rows = r.body ?? [];
    draw();
  });
}

function nodeRow(ctx: Ctx, n: NodeInfo, leader: string): HTMLElement {
  const counts = countStatuses(n.Checks);
  return h(
    "div",
    { class: `row ${worst(counts)}`, "data-node": n.Node },
    h("a", { class: "title", href: href({ page: "node", dc: ctx.dc, name: n.Node }) }, n.Node),
    leader !== "" && leader === n.Address ? h("span", { class: "leader", title: "Raft leader" }, "leader") : null,
    h("span", { class: "address" }, n.Address),
    healthCounts(counts),
    h("span", { class: "muted" }, `${n.Services.length} service${n.Services.length === 1 ? "" : "s"}`),
  );
}

export function nodePage(ctx: Ctx): void {
  if (ctx.route.page !== "node") return;
  const name = ctx.route.name;
  const body = detailFrame(ctx, "nodes", "Nodes", name, "node");
  live<NodeInfo>(ctx, `/v1/internal/ui/node/${encodeURIComponent(name)}`, (r) => {
    const n = r.body;
    if (!n) return replaceChildren(body, h("p", { class: "muted empty" }, `Node ${name} is not registered.`));
    const meta = Object.entries(n.Meta ?? {}).filter(([, v]) => v !== "");
    replaceChildren(
      body,
      h("dl", {}, h("dt", {}, "Address"), h("dd", { class: "address" }, n.Address), h("dt", {}, "ID"), h("dd", {}, n.ID || "-"), ...meta.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("h2", {}, "Health checks ", healthCounts(countStatuses(n.Checks))),
      checksTable(n.Checks),
      h("h2", {}, `Service instances (${n.Services.length})`),
      servicesTable(ctx, n),
    );
  });
}

function servicesTable(ctx: Ctx, n: NodeInfo): HTMLElement {
  if (n.Services.length === 0) return h("p", { class: "muted" }, "No services on this node.");
  return h(
    "table",
    { class: "services" },
    h("thead", {}, h("tr", {}, h("th", {}, "Service"), h("th", {}, "ID"), h("th", {}, "Address"), h("th", {}, "Tags"))),
    h(
      "tbody",
      {},
      ...n.Services.map((s) =>
        h(
          "tr",
          { "data-service": s.Service },
          h("td", {}, h("a", { href: href({ page: "service", dc: ctx.dc, name: s.Service }) }, s.Service)),
          h("td", {}, s.ID),
          h("td", { class: "address" }, `${s.Address || n.Address}${s.Port ? `:${s.Port}` : ""}`),
          h("td", {}, tagList(s.Tags)),
        ),
      ),
    ),
  );
}
