import { getJson, send } from "../api.ts";
import type { Ctx } from "../ctx.ts";
import { h, replaceChildren } from "../dom.ts";
import { href, kvPath, parentOf, unaddressableKey } from "../route.ts";
import { decodeValue, rawFlags } from "../values.ts";
import { api, confirmButton } from "./common.ts";
import { deleteKv, kvCrumbs } from "./kv-list.ts";

// /ui/<dc>/kv/<key>/edit and /ui/<dc>/kv/[<folder>/]create. Saving an edit is a
// check-and-set on the index the page loaded, keeping the key's flags, so a change made
// meanwhile by someone else is reported, not overwritten; creating never overwrites (cas=0).

interface KvEntry {
  Key: string;
  Value: string | null;
  Flags: number;
  LockIndex: number;
  Session?: string;
  CreateIndex: number;
  ModifyIndex: number;
}

export async function kvEditPage(ctx: Ctx): Promise<void> {
  if (ctx.route.page === "kv-create") return createForm(ctx, ctx.route.prefix);
  if (ctx.route.page !== "kv-edit") return;
  const key = ctx.route.key;
  document.title = `${key} - Key/Value - tsc`;
  const body = h("div", { id: "kv-entry" });
  replaceChildren(ctx.main, kvCrumbs(ctx, key), h("h1", {}, key.slice(parentOf(key).length)), body);
  const load = async () => {
    const r = await getJson<KvEntry[]>(api(ctx, kvPath(key)), ctx.signal);
    const e = r.body?.[0];
    if (!e) return replaceChildren(body, h("p", { class: "muted empty" }, `Key ${key} does not exist.`), h("a", { class: "button", href: href({ page: "kv-create", dc: ctx.dc, prefix: parentOf(key) }) }, "Create a key"));
    drawEntry(ctx, body, e, rawFlags(r.text), load);
  };
  await load();
}

function drawEntry(ctx: Ctx, body: HTMLElement, e: KvEntry, flags: string, reload: () => Promise<void>): void {
  const value = decodeValue(e.Value);
  const binary = value.kind === "binary";
  const area = h("textarea", { id: "value", name: "value", rows: 12, spellcheck: "false", readonly: binary, "aria-label": "Value" });
  area.value = binary ? value.base64 : value.text;
  const save = async () => {
    try {
      const ok = await send("PUT", api(ctx, `${kvPath(e.Key)}?flags=${flags}&cas=${e.ModifyIndex}`), area.value);
      if (ok !== "true") return ctx.error("The key changed since this page loaded it (check-and-set failed); reload to see the current value.");
      ctx.clearError();
      await reload();
      ctx.notice(`Saved ${e.Key}`);
    } catch (err) {
      ctx.error(err);
    }
  };
  replaceChildren(
    body,
    h("p", { class: "muted key" }, e.Key),
    e.Session ? h("p", { class: "notice" }, "Locked by session ", h("code", {}, e.Session)) : null,
    binary ? h("p", { class: "notice binary" }, `Binary value (${value.size} bytes), shown as base64; it cannot be edited here.`) : null,
    h("form", { onsubmit: (ev: Event) => (ev.preventDefault(), void save()) }, area, h("p", { class: "actions" }, h("button", { type: "submit", class: "primary", disabled: binary }, "Save"), confirmButton("Delete", async () => void ((await deleteKv(ctx, e.Key)) && ctx.go(href({ page: "kv", dc: ctx.dc, prefix: parentOf(e.Key) })))))),
    h("dl", { class: "meta" }, h("dt", {}, "Flags"), h("dd", {}, flags), h("dt", {}, "Lock index"), h("dd", {}, e.LockIndex), h("dt", {}, "Create index"), h("dd", {}, e.CreateIndex), h("dt", {}, "Modify index"), h("dd", {}, e.ModifyIndex)),
  );
}

function createForm(ctx: Ctx, prefix: string): void {
  document.title = "New key - Key/Value - tsc";
  const name = h("input", { id: "key", name: "key", type: "text", required: true, autocomplete: "off", "aria-label": "Key name", placeholder: "name, or folder/ to create a folder" });
  const area = h("textarea", { id: "value", name: "value", rows: 12, spellcheck: "false", "aria-label": "Value" });
  const create = async () => {
    const key = prefix + name.value;
    const why = name.value === "" ? "Key name is required" : unaddressableKey(key);
    if (why !== "") return ctx.error(why);
    try {
      const ok = await send("PUT", api(ctx, `${kvPath(key)}?cas=0`), key.endsWith("/") ? "" : area.value);
      if (ok !== "true") return ctx.error(`Key ${key} already exists.`);
      ctx.go(href({ page: "kv", dc: ctx.dc, prefix: parentOf(key) }));
    } catch (err) {
      ctx.error(err);
    }
  };
  replaceChildren(
    ctx.main,
    kvCrumbs(ctx, prefix),
    h("h1", {}, "New key"),
    h(
      "form",
      { onsubmit: (ev: Event) => (ev.preventDefault(), void create()) },
      h("label", { for: "key" }, "Key or folder"),
      h("div", { class: "keyname" }, prefix ? h("span", { class: "muted" }, prefix) : null, name),
      h("label", { for: "value" }, "Value"),
      area,
      h("p", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save"), h("a", { class: "button", href: href({ page: "kv", dc: ctx.dc, prefix }) }, "Cancel")),
    ),
  );
  name.focus();
}
