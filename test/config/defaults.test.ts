import { describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import { defaultConfig } from "../../src/config/defaults.ts";

describe("defaultConfig", () => {
  const d = defaultConfig();

  test("identity and addresses", () => {
    expect(d.datacenter).toBe("dc1");
    expect(d.primaryDatacenter).toBe("dc1");
    expect(d.nodeName).toBe(hostname());
    expect(d.bindAddr).toBe("0.0.0.0");
    expect(d.clientAddrs).toEqual(["127.0.0.1"]);
    expect(d.addresses.http).toEqual(["127.0.0.1"]);
    expect(d.domain).toBe("consul.");
    expect(d.server).toBe(false);
    expect(d.dataDir).toBeUndefined();
  });

  test("ports", () => {
    expect(d.ports).toEqual({ http: 8500, https: -1, dns: 8600, serfLan: 8301, serfWan: 8302, server: 8300, grpc: -1 });
  });

  test("timings and limits", () => {
    expect(d.defaultQueryTimeMs).toBe(300_000);
    expect(d.maxQueryTimeMs).toBe(600_000);
    expect(d.sessionTtlMinMs).toBe(10_000);
    expect(d.reconnectTimeoutMs).toBe(72 * 3_600_000);
    expect(d.retryIntervalMs).toBe(30_000);
    expect(d.raftSnapshotThreshold).toBe(16_384);
    expect(d.raftSnapshotIntervalMs).toBe(30_000);
    expect(d.raftTrailingLogs).toBe(10_000);
    expect(d.raftMultiplier).toBe(5);
    expect(d.checkOutputMaxSize).toBe(4096);
    expect(d.limits).toEqual({ kvMaxValueSize: 524_288, txnMaxReqLen: 524_288, httpMaxConnsPerClient: 200, rpcClientTimeoutMs: 60_000 });
    expect(d.rpcHoldTimeoutMs).toBe(7_000);
    expect(d.logLevel).toBe("info");
  });

  test("dns_config", () => {
    expect(d.dnsConfig).toEqual({
      allowStale: true,
      maxStaleMs: 87_600 * 3_600_000,
      nodeTtlMs: 0,
      serviceTtlMs: {},
      enableTruncate: false,
      onlyPassing: false,
      recursorStrategy: "sequential",
      recursorTimeoutMs: 2000,
      disableCompression: false,
      udpAnswerLimit: 3,
      aRecordLimit: 0,
      enableAdditionalNodeMetaTxt: true,
    });
  });

  test("script checks: local on (our decision), remote off", () => {
    expect(d.enableLocalScriptChecks).toBe(true);
    expect(d.enableScriptChecks).toBe(false);
  });

  test("a client leaves on SIGTERM and on SIGINT", () => {
    expect(d.leaveOnTerminate).toBe(true);
    expect(d.skipLeaveOnInterrupt).toBe(false);
  });

  test("each call returns a fresh object", () => {
    const a = defaultConfig();
    a.retryJoin.push("x");
    a.dnsConfig.serviceTtlMs.web = 1;
    expect(defaultConfig().retryJoin).toEqual([]);
    expect(defaultConfig().dnsConfig.serviceTtlMs).toEqual({});
  });
});
