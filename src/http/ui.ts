import { Hono } from "hono";
import type { AgentEnv } from "./env.ts";
import { uiAssets } from "./ui-assets.ts" with { type: "macro" };

// The web UI under /ui/ (mounted only when ui_config.enabled): two assets named by their
// content hash, so browsers may keep them forever, and index.html for every other path, so
// the single-page app's deep links survive a reload. index.html is never cached, and its
// CSP lets only our own script run: KV values and names are user data.

const assets = uiAssets();
const hashed = (body: string, ext: string) => `app-${new Bun.CryptoHasher("sha256").update(body).digest("hex").slice(0, 12)}.${ext}`;
const jsName = hashed(assets.js, "js");
const cssName = hashed(assets.css, "css");
const files = new Map([
  [jsName, { body: assets.js, type: "text/javascript; charset=utf-8" }],
  [cssName, { body: assets.css, type: "text/css; charset=utf-8" }],
]);
const indexHtml = assets.html.replace("{{js}}", jsName).replace("{{css}}", cssName);

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const uiRoutes = new Hono<AgentEnv>()
  .get("/assets/:file", (c) => {
    const f = files.get(c.req.param("file"));
    // Go's FileServer words, as Consul answers a missing asset.
    if (!f) return c.body("404 page not found\n", 404, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
    return c.body(f.body, 200, { "Content-Type": f.type, "Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff" });
  })
  .get("/*", (c) =>
    c.body(indexHtml, 200, {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-cache",
      "Content-Security-Policy": CSP,
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
    }),
  );
