import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Subprocess, spawn, spawnSync } from "bun";
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import dnsPacket from "dns-packet";
import { cleanupTempDirs, cli, type RunningAgent, startAgent, tempDir, waitFor } from "./harness.ts";

// The DNS interface with the real `dig` (bind9-dnsutils): every name form, health filtering,
// truncation and TCP, bad packets, recursors; and `tsc dig` against our server and against a
// real one (dnsmasq). Agent a2 on 127.0.0.41; a stub recursor on 127.0.0.42; dnsmasq on .43.

const IP = "127.0.0.41";
const STUB = "127.0.0.42";
const DNSMASQ = "127.0.0.43";
let a: RunningAgent;
let stub: ReturnType<typeof createSocket>;
let dnsmasq: Subprocess | undefined;
const hasDig = spawnSync(["which", "dig"]).exitCode === 0;
const hasDnsmasq = spawnSync(["sh", "-c", "command -v dnsmasq || test -x /usr/sbin/dnsmasq"]).exitCode === 0;

interface DigResult {
  status: string;
  flags: string[];
  answer: string[][];
  authority: string[][];
  additional: string[][];
  raw: string;
}

function dig(...args: string[]): DigResult {
  const r = spawnSync(["dig", `@${IP}`, "-p", "8600", "+tries=1", "+time=3", ...args]);
  const raw = r.stdout.toString();
  const section = (name: string): string[][] => {
    const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(raw);
    return m ? m[1]!.trim().split("\n").filter((l) => !l.startsWith(";")).map((l) => l.split(/\s+/)) : [];
  };
  return {
    status: /status: (\w+)/.exec(raw)?.[1] ?? "",
    flags: (/;; flags: ([a-z ]*);/.exec(raw)?.[1] ?? "").trim().split(" "),
    answer: section("ANSWER"),
    authority: section("AUTHORITY"),
    additional: section("ADDITIONAL"),
    raw,
  };
}

const register = (body: unknown) => fetch(`http://${IP}:8500/v1/catalog/register`, { method: "PUT", body: JSON.stringify(body) });

beforeAll(async () => {
  // A stub upstream for recursion: answers every A question with 192.0.2.7.
  stub = createSocket("udp4");
  stub.on("message", (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const out = dnsPacket.encode({
      id: q.id,
      type: "response",
      flags: dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: [{ type: "A", name: q.questions![0]!.name, ttl: 60, class: "IN", data: "192.0.2.7" }],
    });
    stub.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => stub.bind(5353, STUB, resolve));
  const config = tempDir();
  writeFileSync(join(config, "dns.json"), JSON.stringify({ recursors: [`${STUB}:5353`], node_meta: { rack: "r1" }, alt_domain: "tsc." }));
  a = await startAgent(IP, { node: "a2", args: ["-server", "-bootstrap-expect", "1", "-config-dir", config] });
  // 60 web instances on 60 nodes (10.0.1.N), the first tagged rails, the last two failing.
  for (let i = 1; i <= 60; i++) {
    const status = i > 58 ? "critical" : i === 58 ? "warning" : "passing";
    const r = await register({
      Node: `web${i}`,
      Address: `10.0.1.${i}`,
      Service: { Service: "web", Tags: i === 1 ? ["rails"] : [], Port: 8000 + i },
      Check: { CheckID: "web-check", Name: "web", Status: status, ServiceID: "web" },
    });
    expect(r.status).toBe(200);
  }
  await register({ Node: "v6node", Address: "2001:db8::7", Service: { Service: "six", Port: 1 } });
  if (hasDnsmasq) {
    const hosts = join(tempDir(), "hosts");
    writeFileSync(hosts, "192.0.2.44 real.example\n");
    dnsmasq = spawn(["dnsmasq", "--no-daemon", "--port=5354", `--listen-address=${DNSMASQ}`, "--bind-interfaces", "--no-resolv", "--no-hosts", `--addn-hosts=${hosts}`, "--conf-file=/dev/null", "--user=root", "--pid-file="], { stdout: "ignore", stderr: "pipe", env: { PATH: `${process.env.PATH}:/usr/sbin` } });
  }
});

afterAll(async () => {
  await a?.stop();
  stub?.close();
  dnsmasq?.kill();
  cleanupTempDirs();
});

describe.skipIf(!hasDig)("dig against tsc", () => {
  test("a2.node.consul and a2.node.dc1.consul: A, qr aa rd, no ra... unless recursors are set", () => {
    for (const name of ["a2.node.consul", "a2.node.dc1.consul", "A2.NODE.CONSUL"]) {
      const r = dig(name);
      expect(r.status).toBe("NOERROR");
      expect(r.flags).toEqual(["qr", "aa", "rd", "ra"]); // ra: this agent has a recursor
      expect(r.answer).toEqual([[`${name}.`, "0", "IN", "A", IP]]);
      expect(r.additional).toContainEqual([`${name}.`, "0", "IN", "TXT", '"rack=r1"']);
    }
    expect(dig("a2.node.tsc").answer[0]?.[4]).toBe(IP); // alt_domain
  });

  test("NODATA for AAAA of an IPv4 node, NXDOMAIN with SOA for unknown names", () => {
    const nodata = dig("a2.node.consul", "AAAA");
    expect([nodata.status, nodata.answer.length, nodata.authority[0]?.[3]]).toEqual(["NOERROR", 0, "SOA"]);
    for (const name of ["nope.node.consul", "nope.service.consul", "a2.node.dc9.consul", "x.y.z.service.consul", "bogus.consul"]) {
      const r = dig(name);
      expect(r.status).toBe("NXDOMAIN");
      expect(r.authority[0]?.slice(0, 5)).toEqual(["consul.", "0", "IN", "SOA", "ns.consul."]);
    }
    expect(dig("six.service.consul", "AAAA").answer).toEqual([["six.service.consul.", "0", "IN", "AAAA", "2001:db8::7"]]);
  });

  test("services: healthy instances only (warning kept), tag filter, shuffled", () => {
    const all = dig("web.service.consul", "+bufsize=4096");
    const addrs = all.answer.map((r) => r[4]!);
    expect(addrs).toHaveLength(58);
    expect(addrs).not.toContain("10.0.1.59");
    expect(addrs).not.toContain("10.0.1.60");
    expect(addrs).toContain("10.0.1.58");
    const again = dig("web.service.consul", "+bufsize=4096").answer.map((r) => r[4]!);
    expect(again).not.toEqual(addrs); // 58! orders: equal only by a vanishing chance
    expect(dig("rails.web.service.consul").answer).toEqual([["rails.web.service.consul.", "0", "IN", "A", "10.0.1.1"]]);
    expect(dig("consul.service.consul").answer).toEqual([["consul.service.consul.", "0", "IN", "A", IP]]);
  });

  test("SRV: node targets with their addresses in ADDITIONAL; RFC 2782 names", () => {
    const r = dig("rails.web.service.consul", "SRV");
    expect(r.answer).toEqual([["rails.web.service.consul.", "0", "IN", "SRV", "1", "1", "8001", "web1.node.dc1.consul."]]);
    expect(r.additional).toContainEqual(["web1.node.dc1.consul.", "0", "IN", "A", "10.0.1.1"]);
    expect(dig("_web._rails.service.consul", "SRV").answer.map((x) => x[7])).toEqual(["web1.node.dc1.consul."]);
    expect(dig("_web._tcp.service.consul", "SRV", "+bufsize=8192").answer).toHaveLength(58);
  });

  test("over UDP without EDNS: 3 answers; too big for the buffer: TC, and TCP returns all", () => {
    expect(dig("web.service.consul", "+noedns").answer).toHaveLength(3);
    const udp = dig("web.service.consul", "SRV", "+bufsize=512", "+ignore");
    expect(udp.flags).toContain("tc");
    expect(udp.answer.length).toBeLessThan(58);
    const tcp = dig("web.service.consul", "SRV", "+tcp");
    expect(tcp.flags).not.toContain("tc");
    expect(tcp.answer).toHaveLength(58);
    // ANY (dig itself asks it over TCP) is answered like A.
    expect(dig("web.service.consul", "ANY").answer).toHaveLength(58);
  });

  test("PTR, .addr, SOA and NS", () => {
    expect(dig("-x", IP).answer).toEqual([[`${IP.split(".").reverse().join(".")}.in-addr.arpa.`, "0", "IN", "PTR", "a2.node.dc1.consul."]]);
    expect(dig("0a000105.addr.dc1.consul").answer[0]?.[4]).toBe("10.0.1.5");
    expect(dig("consul", "SOA").answer[0]?.slice(3, 6)).toEqual(["SOA", "ns.consul.", "hostmaster.consul."]);
    const ns = dig("consul", "NS");
    expect(ns.answer).toEqual([["consul.", "0", "IN", "NS", "a2.node.dc1.consul."]]);
    expect(ns.additional).toContainEqual(["a2.node.dc1.consul.", "0", "IN", "A", IP]);
  });

  test("other names go to the recursor", async () => {
    // The stub lives in this process, so dig must not block it: run it asynchronously.
    const proc = spawn(["dig", `@${IP}`, "-p", "8600", "+tries=1", "+time=3", "+short", "example.test"], { stdout: "pipe" });
    const out = await new Response(proc.stdout).text();
    expect(out).toBe("192.0.2.7\n");
  });
});

describe("bad packets", () => {
  async function send(bytes: Buffer): Promise<Buffer | undefined> {
    const sock = createSocket("udp4");
    try {
      return await new Promise<Buffer | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 500);
        sock.on("message", (m) => {
          clearTimeout(timer);
          resolve(m);
        });
        sock.send(bytes, 8600, IP);
      });
    } finally {
      sock.close();
    }
  }
  const rcodeOf = (b: Buffer | undefined) => (b ? b.readUInt16BE(2) & 0xf : undefined);

  test("ANY over UDP stays within what the query invites", async () => {
    const any = await send(dnsPacket.encode({ id: 3, type: "query", questions: [{ type: "ANY" as never, name: "web.service.consul" }] }));
    expect(any!.length).toBeLessThanOrEqual(512);
    expect(dnsPacket.decode(any!).answers).toHaveLength(3);
  });

  test("garbage, loops, no question, many questions, responses: FORMERR or silence, and the server lives", async () => {
    expect(await send(Buffer.from([1, 2, 3]))).toBeUndefined(); // shorter than a header
    const header = (qd: number, flags = 0x0100) => {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(0x1234, 0);
      h.writeUInt16BE(flags, 2);
      h.writeUInt16BE(qd, 4);
      return h;
    };
    expect(rcodeOf(await send(header(0)))).toBe(1); // zero questions
    expect(rcodeOf(await send(header(65535)))).toBe(1); // claims more than it has
    // A name that points at itself: a compression loop.
    const loop = Buffer.concat([header(1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(rcodeOf(await send(loop))).toBe(1);
    const two = dnsPacket.encode({ id: 7, type: "query", questions: [{ type: "A", name: "a2.node.consul" }, { type: "A", name: "b.node.consul" }] });
    expect(rcodeOf(await send(two))).toBe(1);
    const response = dnsPacket.encode({ id: 8, type: "response", questions: [{ type: "A", name: "a2.node.consul" }] });
    expect(await send(response)).toBeUndefined();
    expect(await send(Buffer.from(crypto.getRandomValues(new Uint8Array(300))).fill(0x81, 2, 3))).toBeUndefined();
    const ok = await send(dnsPacket.encode({ id: 9, type: "query", flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name: "a2.node.consul" }] }));
    expect(dnsPacket.decode(ok!).answers?.[0]).toMatchObject({ type: "A", data: IP });
  });
});

describe("tsc dig", () => {
  test("against tsc: the dig layout, +short, +tcp, -x", () => {
    const r = cli(["dig", `@${IP}`, "a2.node.consul"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(";; ->>HEADER<<- opcode: QUERY, status: NOERROR");
    expect(r.stdout).toContain(";; flags: qr aa rd ra; QUERY: 1, ANSWER: 1");
    expect(r.stdout).toMatch(/;; ANSWER SECTION:\na2\.node\.consul\.\t+0\tIN\tA\t127\.0\.0\.41\n/);
    expect(r.stdout).toContain(`;; SERVER: ${IP}#8600(${IP}) (UDP)`);
    expect(cli(["dig", "-http-addr", `${IP}:8500`, "rails.web.service.consul", "SRV", "+short"]).stdout).toBe("1 1 8001 web1.node.dc1.consul.\n");
    const tcp = cli(["dig", `@${IP}`, "web.service.consul", "SRV", "+tcp"]);
    expect(tcp.stdout).toContain("ANSWER: 58,");
    expect(tcp.stdout).toContain("(TCP)");
    expect(cli(["dig", `@${IP}`, "-x", IP, "+short"]).stdout).toBe("a2.node.dc1.consul.\n");
    expect(cli(["dig", `@${IP}`, "nope.node.consul"]).stdout).toContain("status: NXDOMAIN");
  });

  test("no server: dig's message and exit 9", () => {
    expect(cli(["dig", "@127.0.0.44", "+time=1", "a2.node.consul"])).toMatchObject({ code: 9, stdout: ";; connection timed out; no servers could be reached\n" });
  });

  test.skipIf(!hasDnsmasq)("against a real server (dnsmasq)", async () => {
    let out = "";
    await waitFor(
      () => {
        out = cli(["dig", `@${DNSMASQ}`, "-p", "5354", "real.example", "+short"]).stdout;
        return out !== "";
      },
      5000,
      () => "dnsmasq never answered",
    );
    expect(out).toBe("192.0.2.44\n");
    const full = cli(["dig", `@${DNSMASQ}`, "-p", "5354", "real.example"]).stdout;
    expect(full).toContain("status: NOERROR");
    expect(full).toMatch(/real\.example\.\t+0\tIN\tA\t192\.0\.2\.44/);
  });
});
