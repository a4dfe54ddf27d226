import type { AgentCheck } from "../../api/agent-types.ts";
import { type Reply, watch } from "../api.ts";
import type { Ctx } from "../ctx.ts";
import { h, pill, replaceChildren } from "../dom.ts";
import { href } from "../route.ts";
import type { Counts } from "../values.ts";

// Pieces every page uses: API paths with the page's datacenter, live data, search boxes,
// health totals and check tables.

export function api(ctx: Ctx, path: string): string {
  return `${path}${path.includes("?") ? "&" : "?"}dc=${encodeURIComponent(ctx.dc)}`;
}

/** A detail page's frame: title, a crumb back to its list, the name as heading; returns its body. */
export function detailFrame(ctx: Ctx, list: "services" | "nodes", label: string, name: string, bodyId: string): HTMLElement {
  document.title = `${name} - ${label} - tsc`;
  const body = h("div", { id: bodyId });
  replaceChildren(ctx.main, h("p", { class: "crumbs" }, h("a", { href: href({ page: list, dc: ctx.dc }) }, label), " / "), h("h1", {}, name), body);
  return body;
}

/** Follows `path` for as long as the page is shown; an error stays up until an answer comes. */
export function live<T>(ctx: Ctx, path: string, draw: (r: Reply<T>) => void): void {
  let failed = false;
  void watch<T>(
    api(ctx, path),
    ctx.signal,
    (r) => {
      if (failed) ctx.clearError();
      failed = false;
      draw(r);
    },
    (e) => {
      failed = true;
      ctx.error(e);
    },
  );
}

/** A search box whose matching is redone on each keystroke and each live update. */
export function searchBox(label: string, onInput: () => void): HTMLInputElement {
  return h("input", { type: "search", class: "search", placeholder: label, "aria-label": label, oninput: onInput });
}

export const matches = (query: string, ...fields: string[]): boolean => {
  const q = query.trim().toLowerCase();
  return q === "" || fields.some((f) => f.toLowerCase().includes(q));
};

/** Passing/warning/critical totals; zeros are left out, as Consul's list does. */
export function healthCounts(c: Counts): HTMLElement {
  const parts = (["passing", "warning", "critical"] as const).filter((s) => c[s] > 0).map((s) => pill(s, `${c[s]} ${s}`));
  return h("span", { class: "health" }, ...(parts.length > 0 ? parts : [h("span", { class: "muted" }, "no checks")]));
}

/** The fields of Consul's HealthCheck JSON the tables show. */
export type CheckJson = Pick<AgentCheck, "CheckID" | "Name" | "Status" | "Notes" | "Output" | "ServiceID" | "Type">;

export function checksTable(checks: CheckJson[]): HTMLElement {
  if (checks.length === 0) return h("p", { class: "muted" }, "No health checks.");
  return h(
    "table",
    { class: "checks" },
    h("thead", {}, h("tr", {}, h("th", {}, "Check"), h("th", {}, "Status"), h("th", {}, "Type"), h("th", {}, "Output"))),
    h(
      "tbody",
      {},
      ...checks.map((c) =>
        h(
          "tr",
          { class: `check ${c.Status}`, "data-check": c.CheckID },
          h("td", {}, h("div", { class: "name" }, c.Name || c.CheckID), h("div", { class: "muted id" }, c.CheckID), c.Notes ? h("div", { class: "notes" }, c.Notes) : null),
          h("td", {}, pill(c.Status)),
          h("td", {}, c.Type || (c.ServiceID ? "service" : "node")),
          h("td", {}, h("pre", { class: "output" }, c.Output)),
        ),
      ),
    ),
  );
}

export function tagList(tags: string[] | null | undefined): HTMLElement | null {
  if (!tags || tags.length === 0) return null;
  return h("span", { class: "tags" }, ...tags.map((t) => h("span", { class: "tag" }, t)));
}

/** A destructive action asks once more in place: "Delete" becomes "Confirm delete" / "Cancel". */
export function confirmButton(label: string, action: () => Promise<void>): HTMLElement {
  const box = h("span", { class: "confirm" });
  const ask = () =>
    replaceChildren(
      box,
      h("button", { type: "button", class: "danger", onclick: () => void action().finally(idle) }, `Confirm ${label.toLowerCase()}`),
      h("button", { type: "button", onclick: idle }, "Cancel"),
    );
  const idle = () => replaceChildren(box, h("button", { type: "button", class: "danger", onclick: ask }, label));
  idle();
  return box;
}
