import { ApiError, getJson } from "./api.ts";
import type { Ctx } from "./ctx.ts";
import { h, replaceChildren } from "./dom.ts";
import { kvEditPage } from "./pages/kv-edit.ts";
import { kvListPage } from "./pages/kv-list.ts";
import { nodePage, nodesPage } from "./pages/nodes.ts";
import { servicePage, servicesPage } from "./pages/services.ts";
import { href, parseRoute, type Route } from "./route.ts";

// The single-page app: routes from the URL, one page at a time (the previous one's blocking
// queries are aborted), links handled here so navigation never reloads.

const pages: Record<Route["page"], (ctx: Ctx) => void | Promise<void>> = {
  root: () => {},
  services: servicesPage,
  service: servicePage,
  nodes: nodesPage,
  node: nodePage,
  kv: kvListPage,
  "kv-edit": kvEditPage,
  "kv-create": kvEditPage,
  "not-found": (ctx) => replaceChildren(ctx.main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: href({ page: "services", dc: ctx.dc }) }, "Back to services"))),
};

const errorBox = h("div", { role: "alert", class: "error", id: "error", hidden: true });
const noticeBox = h("div", { role: "status", class: "notice", id: "notice", hidden: true });
const main = h("main", { id: "main" });
const nav = h("nav", {});
let current: AbortController | undefined;
let agentDc = "";

/** The agent's own text for an API error; anything else as it prints. */
function showError(e: unknown): void {
  errorBox.textContent = e instanceof ApiError ? e.message : String(e);
  errorBox.hidden = false;
}

function clearError(): void {
  errorBox.hidden = true;
  errorBox.textContent = "";
}

function notice(text: string): void {
  noticeBox.textContent = text;
  noticeBox.hidden = false;
}

function go(path: string): void {
  history.pushState(null, "", path);
  void render();
}

function drawNav(route: Route, dc: string): void {
  const section = route.page.startsWith("kv") ? "kv" : route.page.startsWith("node") ? "nodes" : "services";
  const link = (page: "services" | "nodes" | "kv", label: string) =>
    h("a", { href: href(page === "kv" ? { page, dc, prefix: "" } : { page, dc }), class: section === page ? "active" : undefined, "aria-current": section === page ? "page" : undefined }, label);
  replaceChildren(nav, h("span", { class: "brand" }, "tsc"), h("span", { class: "dc", title: "datacenter" }, dc), link("services", "Services"), link("nodes", "Nodes"), link("kv", "Key/Value"));
}

async function render(): Promise<void> {
  current?.abort();
  const controller = (current = new AbortController());
  clearError();
  noticeBox.hidden = true;
  const route = parseRoute(location.pathname);
  if (route.page === "root") {
    history.replaceState(null, "", href({ page: "services", dc: agentDc }));
    return render();
  }
  drawNav(route, route.dc);
  replaceChildren(main);
  window.scrollTo(0, 0);
  try {
    await pages[route.page]({ dc: route.dc, route, main, signal: controller.signal, go, error: showError, clearError, notice });
  } catch (err) {
    if (!controller.signal.aborted) showError(err);
  }
}

/** Same-origin links into the UI navigate in place; modified clicks (new tab...) are the browser's. */
document.addEventListener("click", (e) => {
  const a = (e.target as Element | null)?.closest?.("a");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/ui/")) return;
  e.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", () => void render());

async function boot(): Promise<void> {
  document.body.replaceChildren(h("header", {}, nav), errorBox, noticeBox, main);
  try {
    const self = await getJson<{ Config?: { Datacenter?: string } }>("/v1/agent/self");
    agentDc = self.body?.Config?.Datacenter ?? "";
  } catch (err) {
    showError(err);
  }
  if (agentDc === "") agentDc = (await getJson<string[]>("/v1/catalog/datacenters").catch(() => undefined))?.body?.[0] ?? "dc1";
  await render();
}

void boot();
