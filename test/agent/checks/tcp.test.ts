import { afterAll, beforeAll, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { runOnce } from "./helpers.ts";

// A real listener on loopback, and loopback ports nobody listens on.

let v4: Server;
let port = 0;
beforeAll(async () => {
  v4 = createServer((s) => s.end());
  await new Promise<void>((resolve) => v4.listen(0, "127.0.0.1", resolve));
  port = (v4.address() as { port: number }).port;
});
afterAll(() => v4.close());

test("a listener is passing in Consul's words", async () => {
  expect(await runOnce({ tcp: `127.0.0.1:${port}` })).toEqual({ status: "passing", output: `TCP connect 127.0.0.1:${port}: Success` });
  expect(await runOnce({ tcp: `localhost:${port}` })).toMatchObject({ status: "passing", output: `TCP connect localhost:${port}: Success` });
});

test("IPv6 addresses go in brackets", async () => {
  const v6 = createServer((s) => s.end());
  const ok = await new Promise<boolean>((resolve) => {
    v6.once("error", () => resolve(false));
    v6.listen(0, "::1", () => resolve(true));
  });
  if (!ok) return; // no IPv6 loopback here
  const p = (v6.address() as { port: number }).port;
  try {
    expect(await runOnce({ tcp: `[::1]:${p}` })).toEqual({ status: "passing", output: `TCP connect [::1]:${p}: Success` });
  } finally {
    v6.close();
  }
  expect(await runOnce({ tcp: "[::1]:1" })).toEqual({ status: "critical", output: "dial tcp [::1]:1: connect: connection refused" });
});

test("a closed port or a bad address is critical with Go's dial error", async () => {
  expect(await runOnce({ tcp: "127.0.0.1:1" })).toEqual({ status: "critical", output: "dial tcp 127.0.0.1:1: connect: connection refused" });
  expect(await runOnce({ tcp: "127.0.0.1" })).toEqual({ status: "critical", output: "dial tcp: address 127.0.0.1: missing port in address" });
  expect(await runOnce({ tcp: "::1:80" })).toEqual({ status: "critical", output: "dial tcp: address ::1:80: too many colons in address" });
});
