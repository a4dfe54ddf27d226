import { expect, test } from "bun:test";
import { RpcClient } from "../../src/rpc/client.ts";
import { RpcServer } from "../../src/rpc/server.ts";

// A response far larger than a socket buffer (a snapshot archive) arrives whole: Bun's socket
// writes only what fits, and the server must send the rest when the socket drains.

test("a 16 MiB response and a 16 MiB request cross whole, and calls behind them still answer", async () => {
  const big = new Uint8Array(16 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) % 251;
  const server = new RpcServer(
    {
      Blob: {
        target: () => ({ get: async () => big, size: async (b: Uint8Array) => b.length, ping: async () => "pong" }),
        methods: ["get", "size", "ping"],
      },
    },
    { warn: () => {} },
  );
  server.start("127.0.0.87", 18_387);
  const client = new RpcClient(() => [{ name: "s", ip: "127.0.0.87", port: 18_387 }]);
  try {
    const [got, pong, size] = await Promise.all([client.call("Blob.get", []), client.call("Blob.ping", []), client.call("Blob.size", [big])]);
    expect((got as Uint8Array).length).toBe(big.length);
    expect(Buffer.compare(got as Uint8Array, big)).toBe(0);
    expect(pong).toBe("pong");
    expect(size).toBe(big.length);
  } finally {
    client.close();
    server.stop();
  }
}, 30_000);
