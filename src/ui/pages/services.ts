import type { Ctx } from "../ctx.ts";
import { h, replaceChildren } from "../dom.ts";
import { href } from "../route.ts";
import { countStatuses, worst } from "../values.ts";
import { type CheckJson, checksTable, detailFrame, healthCounts, live, matches, searchBox, tagList } from "./common.ts";

// /ui/<dc>/services and /ui/<dc>/services/<name>.

interface ServiceSummary {
  Name: string;
  Tags: string[] | null;
  Nodes: string[];
  InstanceCount: number;
  ChecksPassing: number;
  ChecksWarning: number;
  ChecksCritical: number;
}

export function servicesPage(ctx: Ctx): void {
  document.title = "Services - tsc";
  const list = h("div", { class: "list", id: "services" });
  let rows: ServiceSummary[] = [];
  const draw = () => {
    const shown = rows.filter((s) => matches(search.value, s.Name, ...(s.Tags ?? [])));
    replaceChildren(list, ...(shown.length > 0 ? shown.map((s) => serviceRow(ctx, s)) : [h("p", { class: "muted empty" }, rows.length === 0 ? "No services." : "No services match.")]));
    count.textContent = `${rows.length}`;
  };
  const search = searchBox("Search by name or tag", draw);
  const count = h("span", { class: "count" });
  replaceChildren(ctx.main, h("h1", {}, "Services ", count), search, list);
  live<ServiceSummary[]>(ctx, "/v1/internal/ui/services", (r) => {
    rows = r.body ?? [];
    draw();
  });
}

function serviceRow(ctx: Ctx, s: ServiceSummary): HTMLElement {
  const counts = { passing: s.ChecksPassing, warning: s.ChecksWarning, critical: s.ChecksCritical };
  return h(
    "div",
    { class: `row ${worst(counts)}`, "data-service": s.Name },
    h("a", { class: "title", href: href({ page: "service", dc: ctx.dc, name: s.Name }) }, s.Name),
    healthCounts(counts),
    h("span", { class: "muted" }, `${s.InstanceCount} instance${s.InstanceCount === 1 ? "" : "s"}`),
    tagList(s.Tags),
  );
}

interface Instance {
  Node: { Node: string; Address: string };
  Service: { ID: string; Service: string; Tags: string[] | null; Address: string; Port: number; Meta: Record<string, string> | null };
  Checks: CheckJson[];
}

export function servicePage(ctx: Ctx): void {
  if (ctx.route.page !== "service") return;
  const name = ctx.route.name;
  const body = detailFrame(ctx, "services", "Services", name, "instances");
  live<Instance[]>(ctx, `/v1/health/service/${encodeURIComponent(name)}`, (r) => {
    const instances = r.body ?? [];
    if (instances.length === 0) return replaceChildren(body, h("p", { class: "muted empty" }, `No instances of ${name} are registered.`));
    replaceChildren(body, h("h2", {}, `Instances (${instances.length})`), ...instances.map((i) => instanceCard(ctx, i)));
  });
}

function instanceCard(ctx: Ctx, i: Instance): HTMLElement {
  const address = `${i.Service.Address || i.Node.Address}${i.Service.Port ? `:${i.Service.Port}` : ""}`;
  const status = worst(countStatuses(i.Checks));
  return h(
    "section",
    { class: `card ${status}`, "data-instance": i.Service.ID },
    h("h3", {}, i.Service.ID, " ", healthCounts(countStatuses(i.Checks))),
    h(
      "dl",
      {},
      h("dt", {}, "Node"),
      h("dd", {}, h("a", { href: href({ page: "node", dc: ctx.dc, name: i.Node.Node }) }, i.Node.Node)),
      h("dt", {}, "Address"),
      h("dd", { class: "address" }, address),
      i.Service.Tags && i.Service.Tags.length > 0 ? h("dt", {}, "Tags") : null,
      i.Service.Tags && i.Service.Tags.length > 0 ? h("dd", {}, tagList(i.Service.Tags)) : null,
    ),
    checksTable(i.Checks),
  );
}
