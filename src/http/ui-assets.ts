import { readFileSync } from "node:fs";

// Runs when the server code is bundled or transpiled (ui.ts imports it `with { type:
// "macro" }`): `bun build --compile` inlines the web UI into the binary as strings, and
// `bun test` builds it in memory on import, so no generated file exists anywhere. Bun.build
// cannot run inside a macro (the bundler waits on it), hence a child `bun build`.

export function uiAssets(): { js: string; css: string; html: string } {
  const dir = `${import.meta.dir}/../ui`;
  const r = Bun.spawnSync([process.execPath, "build", `${dir}/main.ts`, "--target=browser", "--format=esm", "--minify"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`building the web UI failed:\n${r.stderr.toString()}`);
  return { js: r.stdout.toString(), css: readFileSync(`${dir}/style.css`, "utf8"), html: readFileSync(`${dir}/index.html`, "utf8") };
}
