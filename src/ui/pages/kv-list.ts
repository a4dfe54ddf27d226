import { send } from "../api.ts";
import type { Ctx } from "../ctx.ts";
import { h, replaceChildren } from "../dom.ts";
import { href, kvPath, parentOf } from "../route.ts";
import { api, confirmButton, live } from "./common.ts";

// /ui/<dc>/kv/[<folder>/]: one level of keys (?keys&separator=/), live; folders open,
// keys edit, both can be deleted (a folder with everything under it).

export function kvCrumbs(ctx: Ctx, key: string): HTMLElement {
  const segs = key.split("/").slice(0, -1);
  const links = segs.map((s, i) => [h("a", { href: href({ page: "kv", dc: ctx.dc, prefix: `${segs.slice(0, i + 1).join("/")}/` }) }, s), " / "]);
  return h("p", { class: "crumbs" }, h("a", { href: href({ page: "kv", dc: ctx.dc, prefix: "" }) }, "Key/Value"), " / ", ...links.flat());
}

export async function deleteKv(ctx: Ctx, key: string): Promise<boolean> {
  try {
    await send("DELETE", api(ctx, `${kvPath(key)}${key.endsWith("/") ? "?recurse" : ""}`));
    return true;
  } catch (err) {
    ctx.error(err);
    return false;
  }
}

export function kvListPage(ctx: Ctx): void {
  if (ctx.route.page !== "kv") return;
  const prefix = ctx.route.prefix;
  document.title = `${prefix || "Key/Value"} - tsc`;
  const list = h("div", { class: "list", id: "keys" });
  const actions = h(
    "p",
    { class: "actions" },
    h("a", { class: "button", href: href({ page: "kv-create", dc: ctx.dc, prefix }) }, "Create"),
    prefix === "" ? null : confirmButton("Delete folder", async () => void ((await deleteKv(ctx, prefix)) && ctx.go(href({ page: "kv", dc: ctx.dc, prefix: parentOf(prefix) })))),
  );
  const title = prefix === "" ? "Key/Value" : prefix.slice(parentOf(prefix).length);
  replaceChildren(ctx.main, kvCrumbs(ctx, prefix), h("h1", {}, title), actions, list);
  live<string[]>(ctx, `${kvPath(prefix)}?keys&separator=/`, (r) => {
    const keys = (r.body ?? []).filter((k) => k !== prefix);
    if (keys.length === 0) return replaceChildren(list, h("p", { class: "muted empty" }, prefix === "" ? "There are no keys yet." : "This folder is empty."));
    replaceChildren(list, ...keys.map((k) => keyRow(ctx, prefix, k)));
  });
}

function keyRow(ctx: Ctx, prefix: string, key: string): HTMLElement {
  const folder = key.endsWith("/");
  const name = key.slice(prefix.length);
  const link = folder ? href({ page: "kv", dc: ctx.dc, prefix: key }) : href({ page: "kv-edit", dc: ctx.dc, key });
  return h(
    "div",
    { class: `row ${folder ? "folder" : "key"}`, "data-key": key },
    h("a", { class: "title", href: link }, name),
    h("span", { class: "muted" }, folder ? "folder" : "key"),
    confirmButton("Delete", async () => void (await deleteKv(ctx, key))),
  );
}
