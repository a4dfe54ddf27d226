import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { type Browser, launchBrowser } from "./browser.ts";
import { cleanupTempDirs, kvValues, type RunningAgent, startAgent, tempDir, waitFor } from "./harness.ts";

// The web UI against the real binary, through headless Chromium: what a user sees of
// services, health, nodes and KV, changes made in the UI as the API then reports them, and
// user data that looks like HTML staying text. Plus the plain HTTP side: redirects, content
// types, caching, and an agent without the UI. Agents on 127.0.0.90 (UI), .91 (no UI) and
// .92 (a client agent of .90, for the forwarded internal endpoints).

const IP = "127.0.0.90";
const NO_UI_IP = "127.0.0.91";
const CLIENT_IP = "127.0.0.92";
const HTML = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;
const MAX_VALUE = 1024;

let a: RunningAgent;
let plain: RunningAgent;
let b: Browser;
let page: Page;

const url = (path: string) => `${a.url}${path}`;
const put = async (path: string, body?: string | Uint8Array | object) => {
  const raw = typeof body === "string" || body instanceof Uint8Array || body === undefined;
  const r = await fetch(url(path), { method: "PUT", body: raw ? (body as string | Uint8Array<ArrayBuffer> | undefined) : JSON.stringify(body) });
  if (!r.ok) throw new Error(`PUT ${path}: ${r.status} ${await r.text()}`);
};
const getJson = async <T>(path: string): Promise<T> => (await (await fetch(url(path))).json()) as T;
const kvGet = async (key: string): Promise<string | undefined> => {
  const r = await fetch(url(`/v1/kv/${key}?raw`));
  return r.status === 404 ? undefined : await r.text();
};

/** Waits until the element's text contains `want`; says what it saw when it does not. */
async function waitText(selector: string, want: string, timeoutMs = 10_000): Promise<string> {
  let seen = "";
  await waitFor(
    async () => {
      seen = (await page.locator(selector).first().textContent({ timeout: 1000 }).catch(() => "")) ?? "";
      return seen.includes(want);
    },
    timeoutMs,
    () => `${selector} never showed ${JSON.stringify(want)}; it showed ${JSON.stringify(seen)} at ${page.url()}`,
  );
  return seen;
}

const open = async (path: string) => {
  await page.goto(url(path), { waitUntil: "domcontentloaded" });
};

beforeAll(async () => {
  const conf = join(tempDir(), "limits.json");
  writeFileSync(conf, JSON.stringify({ limits: { kv_max_value_size: MAX_VALUE } }));
  [a, plain] = await Promise.all([
    startAgent(IP, { node: "ui-node", args: ["-server", "-bootstrap-expect", "1", "-ui", "-config-file", conf] }),
    startAgent(NO_UI_IP, { node: "plain-node" }),
  ]);
  // Two instances of web on this agent (one passing, one warning), a critical db, and a
  // second node registered straight into the catalog, its service tagged with HTML.
  await put("/v1/agent/service/register", { Name: "web", ID: "web1", Port: 8080, Tags: ["rails", HTML], Check: { TTL: "10m", CheckID: "web1-ttl" } });
  await put("/v1/agent/service/register", { Name: "web", ID: "web2", Port: 8081, Check: { TTL: "10m", CheckID: "web2-ttl" } });
  await put("/v1/agent/service/register", { Name: "db", ID: "db1", Port: 5432, Check: { TTL: "10m", CheckID: "db1-ttl" } });
  await put(`/v1/agent/check/pass/web1-ttl?note=${encodeURIComponent(`all good ${HTML}`)}`);
  await put("/v1/agent/check/warn/web2-ttl?note=slow");
  await put("/v1/agent/check/fail/db1-ttl?note=connection%20refused");
  await put("/v1/catalog/register", {
    Node: "ext-1",
    Address: "10.9.8.7",
    NodeMeta: { rack: HTML },
    Service: { Service: "cache", ID: "cache1", Port: 6379, Tags: [HTML] },
    Check: { CheckID: "cache-alive", Name: "cache alive", Status: "passing", ServiceID: "cache1", Output: "PONG" },
  });
  await put("/v1/kv/app/config/name", "hello");
  await put("/v1/kv/app/config/port", "8080");
  await put("/v1/kv/app/html", HTML);
  await put("/v1/kv/app/bin", new Uint8Array([0xff, 0x00, 0xfe, 0x01]));
  await put("/v1/kv/trash/a", "1");
  await put("/v1/kv/trash/sub/b", "2");
  // Anti-entropy puts the agent's services into the catalog soon after registration.
  await waitFor(async () => (await getJson<Record<string, unknown>>("/v1/catalog/services")).db !== undefined, 10_000, () => "db never reached the catalog");
  await waitFor(
    async () => (await getJson<Array<{ Name: string; ChecksCritical: number }>>("/v1/internal/ui/services")).some((s) => s.Name === "db" && s.ChecksCritical === 1),
    10_000,
    () => "db's critical check never reached the catalog",
  );
  b = await launchBrowser();
  page = b.page;
}, 60_000);

afterAll(async () => {
  await b?.close().catch((err) => console.error(err));
  await Promise.all([a?.stop(), plain?.stop()]);
  cleanupTempDirs();
}, 40_000);

describe("serving the UI", () => {
  test("/ redirects to /ui/, /ui to /ui/; every /ui/ path answers the app's index.html, uncached, with a strict CSP", async () => {
    const root = await fetch(url("/"), { redirect: "manual" });
    expect(root.status).toBe(301);
    expect(root.headers.get("Location")).toBe("/ui/");
    const bare = await fetch(url("/ui"), { redirect: "manual" });
    expect(bare.status).toBe(301);
    expect(bare.headers.get("Location")).toBe("/ui/");
    for (const path of ["/ui/", "/ui/dc1/services/web", "/ui/dc1/kv/app/config/name/edit"]) {
      const r = await fetch(url(path));
      expect(r.status).toBe(200);
      expect(r.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
      expect(r.headers.get("Cache-Control")).toBe("no-cache");
      expect(r.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
      expect(await r.text()).toContain('<script type="module" src="/ui/assets/app-');
    }
  });

  test("assets are content-hashed and cached for good; an unknown one is 404", async () => {
    const html = await (await fetch(url("/ui/"))).text();
    const js = /src="(\/ui\/assets\/app-[0-9a-f]+\.js)"/.exec(html)?.[1];
    const css = /href="(\/ui\/assets\/app-[0-9a-f]+\.css)"/.exec(html)?.[1];
    expect(js).toBeDefined();
    expect(css).toBeDefined();
    const [jr, cr] = await Promise.all([fetch(url(js!)), fetch(url(css!))]);
    expect(jr.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(cr.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    for (const r of [jr, cr]) {
      expect(r.status).toBe(200);
      expect(r.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
      expect((await r.text()).length).toBeGreaterThan(100);
    }
    const missing = await fetch(url("/ui/assets/app-000000000000.js"));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("404 page not found\n");
  });

  test("with the UI disabled: / says so, /ui/ is Consul's 404, the internal endpoints still answer", async () => {
    const root = await fetch(`${plain.url}/`, { redirect: "manual" });
    expect(root.status).toBe(200);
    expect(await root.text()).toBe("Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart.");
    for (const path of ["/ui/", "/ui/dc1/services", "/ui/assets/app.js"]) {
      const r = await fetch(`${plain.url}${path}`);
      expect(r.status).toBe(404);
      expect(r.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
      expect(await r.text()).toBe("Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n");
    }
    expect((await fetch(`${plain.url}/v1/internal/ui/services`)).status).toBe(200);
  });
});

describe("/v1/internal/ui", () => {
  test("services: Consul's summary rows with check counts (a node's serfHealth once per node)", async () => {
    const r = await fetch(url("/v1/internal/ui/services"));
    expect(r.headers.get("Content-Type")).toBe("application/json");
    expect(Number(r.headers.get("X-Consul-Index"))).toBeGreaterThan(0);
    const rows = (await r.json()) as Array<Record<string, unknown>>;
    expect(rows.map((s) => s.Name)).toEqual(["cache", "consul", "db", "web"]);
    const web = rows.find((s) => s.Name === "web")!;
    expect(web).toEqual({
      Name: "web",
      Datacenter: "dc1",
      Tags: [HTML, "rails"],
      Nodes: ["ui-node"],
      ExternalSources: null,
      InstanceCount: 2,
      ChecksPassing: 2,
      ChecksWarning: 1,
      ChecksCritical: 0,
      GatewayConfig: {},
      TransparentProxy: false,
      ConnectNative: false,
      ConnectedWithProxy: false,
      ConnectedWithGateway: false,
    });
    expect(rows.find((s) => s.Name === "db")).toMatchObject({ InstanceCount: 1, ChecksPassing: 1, ChecksCritical: 1 });
  });

  test("nodes and node: NodeInfo with services and checks; an unknown node is 404; blocking wakes on a change", async () => {
    const nodes = await getJson<Array<Record<string, unknown>>>("/v1/internal/ui/nodes");
    expect(nodes.map((n) => n.Node)).toEqual(["ext-1", "ui-node"]);
    expect(Object.keys(nodes[0]!)).toEqual(["ID", "Node", "Address", "TaggedAddresses", "Meta", "Services", "Checks"]);
    const r = await fetch(url("/v1/internal/ui/node/ext-1"));
    const index = Number(r.headers.get("X-Consul-Index"));
    const ext = (await r.json()) as { Address: string; Meta: Record<string, string>; Services: Array<{ ID: string }>; Checks: Array<{ CheckID: string; Output: string }> };
    expect(ext.Address).toBe("10.9.8.7");
    expect(ext.Meta.rack).toBe(HTML);
    expect(ext.Services.map((s) => s.ID)).toEqual(["cache1"]);
    expect(ext.Checks.map((c) => [c.CheckID, c.Output])).toEqual([["cache-alive", "PONG"]]);
    const missing = await fetch(url("/v1/internal/ui/node/nope"));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("");
    expect((await fetch(url("/v1/internal/ui/node/"))).status).toBe(400);
    const blocked = fetch(url(`/v1/internal/ui/node/ext-1?index=${index}&wait=10s`));
    await Bun.sleep(200);
    await put("/v1/catalog/register", { Node: "ext-1", Address: "10.9.8.7", NodeMeta: { rack: HTML }, Check: { CheckID: "cache-alive", Name: "cache alive", Status: "passing", ServiceID: "cache1", Output: "PONG again" } });
    const woke = await blocked;
    expect(Number(woke.headers.get("X-Consul-Index"))).toBeGreaterThan(index);
    expect(((await woke.json()) as typeof ext).Checks[0]!.Output).toBe("PONG again");
  });

  test("a client agent forwards them to a server and serves the UI from the same answers", async () => {
    const client = await startAgent(CLIENT_IP, { node: "ui-client", args: ["-ui", "-join", IP] });
    try {
      const get = async <T>(path: string): Promise<T> => (await (await fetch(`${client.url}${path}`)).json()) as T;
      await waitFor(async () => (await get<Array<{ Node: string }>>("/v1/internal/ui/nodes")).some((n) => n.Node === "ui-client"), 15_000, () => "the client never saw itself in the node dump");
      expect((await get<Array<{ Name: string }>>("/v1/internal/ui/services")).map((s) => s.Name)).toEqual(["cache", "consul", "db", "web"]);
      expect((await get<{ Address: string }>("/v1/internal/ui/node/ext-1")).Address).toBe("10.9.8.7");
      expect((await fetch(`${client.url}/ui/dc1/services`)).headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    } finally {
      await client.stop("SIGINT");
    }
  }, 40_000);
});

describe("the UI in a browser", () => {
  test("/ui/ lands on the services list with health counts; the search box filters it", async () => {
    await open("/ui/");
    await page.waitForURL(url("/ui/dc1/services"));
    await waitText('[data-service="web"]', "2 passing");
    expect(await page.locator('[data-service="web"]').textContent()).toContain("1 warning");
    expect(await page.locator('[data-service="db"]').textContent()).toContain("1 critical");
    expect(await page.locator('[data-service="db"]').getAttribute("class")).toContain("critical");
    expect(await page.title()).toBe("Services - tsc");
    await page.locator("input.search").fill("RAIL");
    await waitFor(async () => (await page.locator("[data-service]").count()) === 1, 5000, () => "search did not filter to one service");
    expect(await page.locator("[data-service]").getAttribute("data-service")).toBe("web");
    await page.locator("input.search").fill("");
    await waitFor(async () => (await page.locator("[data-service]").count()) === 4, 5000, () => "clearing the search did not bring all services back");
  }, 30_000);

  test("the list follows changes live (blocking queries): a check going critical shows without a reload", async () => {
    await open("/ui/dc1/services");
    await waitText('[data-service="web"]', "1 warning");
    await put("/v1/agent/check/fail/web2-ttl?note=down");
    await waitText('[data-service="web"]', "1 critical", 15_000);
    await put("/v1/agent/check/warn/web2-ttl?note=slow");
    await waitText('[data-service="web"]', "1 warning", 15_000);
  }, 40_000);

  test("a service: its instances with node, address:port, tags, and checks with status and output", async () => {
    await open("/ui/dc1/services");
    await page.locator('[data-service="web"] a.title').click();
    await page.waitForURL(url("/ui/dc1/services/web"));
    const web1 = page.locator('[data-instance="web1"]');
    await waitText('[data-instance="web1"]', "127.0.0.90:8080");
    expect(await web1.locator("a", { hasText: "ui-node" }).count()).toBe(1);
    expect(await web1.locator(".tag").allTextContents()).toEqual(["rails", HTML]);
    const check = web1.locator('[data-check="web1-ttl"]');
    expect(await check.locator(".pill").textContent()).toBe("passing");
    expect(await check.locator("pre.output").textContent()).toBe(`all good ${HTML}`);
    expect(await page.locator('[data-instance="web2"] [data-check="web2-ttl"] .pill').textContent()).toBe("warning");
    expect(await page.locator('[data-instance="web2"] [data-check="serfHealth"] pre').textContent()).toBe("Agent alive and reachable");
  }, 30_000);

  test("nodes: the list (searchable by address) and a node's page with its address, checks and services", async () => {
    await open("/ui/dc1/nodes");
    await waitText('[data-node="ext-1"]', "10.9.8.7");
    expect(await page.locator('[data-node="ui-node"] .leader').textContent()).toBe("leader");
    await page.locator("input.search").fill("10.9.");
    await waitFor(async () => (await page.locator("[data-node]").count()) === 1, 5000, () => "address search did not filter");
    await page.locator('[data-node="ext-1"] a.title').click();
    await page.waitForURL(url("/ui/dc1/nodes/ext-1"));
    await waitText("#node", "10.9.8.7");
    expect(await page.locator("#node dd").allTextContents()).toContain(HTML); // node meta, as text
    expect(await page.locator('[data-check="cache-alive"] pre').textContent()).toBe("PONG again");
    expect(await page.locator('#node [data-service="cache"] .address').textContent()).toBe("10.9.8.7:6379");
    await open("/ui/dc1/nodes/ui-node");
    await waitText("#node", "Service instances (4)");
    expect(await page.locator('#node [data-check="db1-ttl"] .pill').textContent()).toBe("critical");
  }, 30_000);

  test("KV: browse folders by clicking, open a key and see its decoded value", async () => {
    await open("/ui/dc1/kv/");
    await waitText("#keys", "app/");
    await page.locator('[data-key="app/"] a.title').click();
    await page.waitForURL(url("/ui/dc1/kv/app/"));
    await waitText("#keys", "config/");
    expect(await page.locator("#keys [data-key] a.title").allTextContents()).toEqual(["bin", "config/", "html"]);
    await page.locator('[data-key="app/config/"] a.title').click();
    await page.locator('[data-key="app/config/name"] a.title').click();
    await page.waitForURL(url("/ui/dc1/kv/app/config/name/edit"));
    await page.locator("#value").waitFor();
    expect(await page.locator("#value").inputValue()).toBe("hello");
    expect(await page.locator(".crumbs").textContent()).toBe("Key/Value / app / config / ");
  }, 30_000);

  test("KV: edit and save a value; the API has it, flags kept", async () => {
    await put("/v1/kv/app/config/port?flags=3304740253564472344", "8080");
    await open("/ui/dc1/kv/app/config/port/edit");
    await page.locator("#value").fill("9090\nsecond line");
    await page.locator("button", { hasText: "Save" }).click();
    await waitText("#notice", "Saved app/config/port");
    expect(await kvGet("app/config/port")).toBe("9090\nsecond line");
    const raw = await (await fetch(url("/v1/kv/app/config/port"))).text();
    expect(raw).toContain('"Flags":3304740253564472344');
  }, 30_000);

  test("KV: a save over a change made meanwhile is refused (check-and-set), not lost", async () => {
    await open("/ui/dc1/kv/app/config/name/edit");
    await page.locator("#value").waitFor();
    await put("/v1/kv/app/config/name", "changed elsewhere");
    await page.locator("#value").fill("mine");
    await page.locator("button", { hasText: "Save" }).click();
    await waitText("#error", "check-and-set failed");
    expect(await kvGet("app/config/name")).toBe("changed elsewhere");
  }, 30_000);

  test("KV: create a key (a name with a space) and a folder from the UI", async () => {
    await open("/ui/dc1/kv/app/");
    await page.locator("a.button", { hasText: "Create" }).click();
    await page.waitForURL(url("/ui/dc1/kv/app/create"));
    await page.locator("#key").fill("new key");
    await page.locator("#value").fill("created in the UI");
    await page.locator("button", { hasText: "Save" }).click();
    await page.waitForURL(url("/ui/dc1/kv/app/"));
    await waitText("#keys", "new key");
    expect(await kvGet("app/new%20key")).toBe("created in the UI");
    await open("/ui/dc1/kv/create");
    await page.locator("#key").fill("folder1/");
    await page.locator("button", { hasText: "Save" }).click();
    await page.waitForURL(url("/ui/dc1/kv/"));
    await waitText("#keys", "folder1/");
    expect(await kvGet("folder1/")).toBe("");
  }, 30_000);

  test("KV: creating a key that exists, or one a URL cannot carry, shows why and changes nothing", async () => {
    await open("/ui/dc1/kv/app/create");
    await page.locator("#key").fill("html");
    await page.locator("#value").fill("overwrite?");
    await page.locator("button", { hasText: "Save" }).click();
    await waitText("#error", "Key app/html already exists.");
    expect(await kvGet("app/html")).toBe(HTML);
    const before = await kvValues(IP, "");
    for (const bad of ["../escape", "x/./y", "a//b"]) {
      await page.locator("#key").fill(bad);
      await page.locator("button", { hasText: "Save" }).click();
      await waitText("#error", "Key must not contain");
    }
    expect(page.url()).toBe(url("/ui/dc1/kv/app/create"));
    expect(await kvValues(IP, "")).toEqual(before);
  }, 30_000);

  test("KV: the API's own error text is shown (value over kv_max_value_size) and the key is unchanged", async () => {
    await open("/ui/dc1/kv/app/config/name/edit");
    await page.locator("#value").fill("x".repeat(MAX_VALUE + 1));
    await page.locator("button", { hasText: "Save" }).click();
    const shown = await waitText("#error", "too large");
    expect(shown).toBe(`Request body(${MAX_VALUE + 1} bytes) too large, max size: ${MAX_VALUE} bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.`);
    expect(await kvGet("app/config/name")).toBe("changed elsewhere");
    // A datacenter the agent cannot reach: the API's 500 text, on a deep link.
    await open("/ui/dc9/services");
    await waitText("#error", "No path to datacenter");
  }, 30_000);

  test("KV: HTML-looking values and names stay text; binary values are shown safely and not editable", async () => {
    await open("/ui/dc1/kv/app/html/edit");
    await page.locator("#value").waitFor();
    expect(await page.locator("#value").inputValue()).toBe(HTML);
    await open("/ui/dc1/services/web");
    await waitText('[data-instance="web1"]', "all good");
    await open("/ui/dc1/kv/app/bin/edit");
    await waitText(".binary", "Binary value (4 bytes)");
    expect(await page.locator("#value").inputValue()).toBe(Buffer.from([0xff, 0x00, 0xfe, 0x01]).toString("base64"));
    expect(await page.locator("button", { hasText: "Save" }).isDisabled()).toBe(true);
    // Nothing that came from the data ever ran or became an element.
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator("main img, main script").count()).toBe(0);
    expect(b.pageErrors).toEqual([]);
  }, 30_000);

  test("KV: delete a key, then a folder with everything under it (?recurse); the API agrees", async () => {
    await open("/ui/dc1/kv/trash/");
    await waitText("#keys", "sub/");
    await page.locator('[data-key="trash/a"] button', { hasText: "Delete" }).click();
    await page.locator('[data-key="trash/a"] button', { hasText: "Confirm delete" }).click();
    await waitFor(async () => (await kvGet("trash/a")) === undefined, 5000, () => "trash/a was not deleted");
    await waitFor(async () => (await page.locator('[data-key="trash/a"]').count()) === 0, 5000, () => "the list still shows trash/a");
    await page.locator(".actions button", { hasText: "Delete folder" }).click();
    await page.locator(".actions button", { hasText: "Confirm delete folder" }).click();
    await page.waitForURL(url("/ui/dc1/kv/"));
    expect(await kvValues(IP, "trash/")).toEqual(new Map());
    await waitFor(async () => (await page.locator('[data-key="trash/"]').count()) === 0, 5000, () => "the root list still shows trash/");
  }, 30_000);

  test("deep links survive a reload; the back button goes back", async () => {
    await open("/ui/dc1/kv/app/config/name/edit");
    await page.locator("#value").waitFor();
    await page.reload({ waitUntil: "domcontentloaded" });
    await page.locator("#value").waitFor();
    expect(await page.locator("#value").inputValue()).toBe("changed elsewhere");
    await open("/ui/dc1/nodes/ext-1");
    await waitText("#node", "10.9.8.7");
    await page.reload({ waitUntil: "domcontentloaded" });
    await waitText("#node", "10.9.8.7");
    await page.locator(".crumbs a", { hasText: "Nodes" }).click();
    await page.waitForURL(url("/ui/dc1/nodes"));
    await page.goBack();
    await page.waitForURL(url("/ui/dc1/nodes/ext-1"));
    await waitText("#node", "10.9.8.7");
    expect(b.pageErrors).toEqual([]);
  }, 30_000);
});
