import { afterAll, expect, test } from "bun:test";
import { ConsulError } from "../../src/lib/errors.ts";
import { RpcClient } from "../../src/rpc/client.ts";
import { RpcServer } from "../../src/rpc/server.ts";

// What a caller sees of a server's error after one RPC hop, as Consul's connection pool
// reports it. The server listens on 127.0.0.159:18300 (away from the agents' standard ports).

const server = new RpcServer(
  {
    KVS: {
      target: () => ({
        apply: () => {
          throw new ConsulError(500, "No cluster leader");
        },
        get: () => {
          throw new ConsulError(400, "Missing key name");
        },
        list: () => ["a"],
      }),
      methods: ["apply", "get", "list"],
    },
  },
  { warn: () => undefined },
);
server.start("127.0.0.159", 18300);
const addr = { name: "s1", ip: "127.0.0.159", port: 18300 };
const client = new RpcClient(() => [addr]);

afterAll(() => {
  client.close();
  server.stop();
});

async function failure(p: Promise<unknown>): Promise<[number, string]> {
  const err = await p.then(
    () => new Error("resolved"),
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(ConsulError);
  return [(err as ConsulError).status, err.message];
}

test("a server's 500 gains Consul's 'rpc error making call: ' prefix; its 4xx keeps the text", async () => {
  expect(await failure(client.call("KVS.apply", []))).toEqual([500, "rpc error making call: No cluster leader"]);
  expect(await failure(client.callServer(addr, "KVS.apply", []))).toEqual([500, "rpc error making call: No cluster leader"]);
  expect(await failure(client.call("KVS.get", []))).toEqual([400, "Missing key name"]);
  expect(await client.call("KVS.list", [])).toEqual(["a"]);
});

test("with no server known a call fails at once with Consul's ErrNoServers", async () => {
  const lonely = new RpcClient(() => []);
  expect(await failure(lonely.call("KVS.list", []))).toEqual([500, "No known Consul servers"]);
});

test("a call past its deadline fails with Consul's text; a blocking query's deadline is its wait plus the hold", async () => {
  let release: (() => void) | undefined;
  const slow = new RpcServer(
    {
      KVS: {
        target: () => ({
          get: () => new Promise<string>((resolve) => (release = () => resolve("late"))),
          list: () => ["a"],
        }),
        methods: ["get", "list"],
      },
    },
    { warn: () => undefined },
  );
  slow.start("127.0.0.159", 18301);
  const at = { name: "s2", ip: "127.0.0.159", port: 18301 };
  const impatient = new RpcClient(() => [at], { timeoutMs: 150, holdMs: 300 });
  try {
    let t0 = performance.now();
    expect(await failure(impatient.call("KVS.get", [{ minIndex: 0, maxWaitMs: 0, consistency: "default" }]))).toEqual([500, "rpc error making call: i/o deadline reached"]);
    expect(performance.now() - t0).toBeLessThan(1_000);
    t0 = performance.now();
    expect(await failure(impatient.callServer(at, "KVS.get", [{ minIndex: 7, maxWaitMs: 200, consistency: "default" }]))).toEqual([500, "rpc error making call: i/o deadline reached"]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(450);
    // The late answers are dropped; the connection serves the next call.
    release?.();
    expect(await impatient.call("KVS.list", [])).toEqual(["a"]);
  } finally {
    impatient.close();
    slow.stop();
  }
});

test("rpc_client_timeout 0: a call waits for its answer however long it takes", async () => {
  let release: (() => void) | undefined;
  const slow = new RpcServer(
    { KVS: { target: () => ({ get: () => new Promise<string>((resolve) => (release = () => resolve("late"))) }), methods: ["get"] } },
    { warn: () => undefined },
  );
  slow.start("127.0.0.159", 18302);
  const at = { name: "s3", ip: "127.0.0.159", port: 18302 };
  const patient = new RpcClient(() => [at], { timeoutMs: 0, holdMs: 0 });
  try {
    const answer = patient.call("KVS.get", [{ minIndex: 0, maxWaitMs: 0, consistency: "default" }]);
    let settled = false;
    void answer.finally(() => (settled = true)).catch(() => undefined);
    await Bun.sleep(300);
    expect(settled).toBe(false);
    release?.();
    expect(await answer).toBe("late");
  } finally {
    patient.close();
    slow.stop();
  }
});
