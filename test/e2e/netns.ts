import { type Subprocess, spawn, spawnSync } from "bun";
import { resolve } from "node:path";
import { agreeOnLeader, BIN, type RunningAgent, tempDir, watchAgent, withTimeout } from "./harness.ts";

// Test hosts in network namespaces this test makes itself, for faults loopback cannot show:
// a partition between running servers. Host i lives in its own namespace with one address,
// 10.77.<i+1>.2, behind a router namespace that forwards between them; a cut is a policy
// rule in the router that drops one direction silently, as a broken link does (no reset,
// no ICMP). Nothing leaves the namespaces: the router has no way out, and every client runs
// inside a host namespace and talks to its own agent on that namespace's 127.0.0.1.

function ip(args: string[]): void {
  const r = spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.toString().trim()}`);
}

/** Whether this machine lets us make namespaces (root with CAP_SYS_ADMIN and iproute2). */
export function netnsAvailable(): boolean {
  const probe = `tscprobe${process.pid}`;
  const made = spawnSync(["ip", "netns", "add", probe], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  if (made) spawnSync(["ip", "netns", "del", probe], { stdout: "ignore", stderr: "ignore" });
  return made;
}

export class TestNet {
  readonly hosts: string[];
  readonly addrs: string[];
  private readonly router: string;
  private readonly cuts = new Set<string>();
  private readonly procs: Subprocess[] = [];

  constructor(n: number) {
    const tag = `tsc${process.pid}`;
    this.router = `${tag}r`;
    this.hosts = Array.from({ length: n }, (_, i) => `${tag}h${i}`);
    this.addrs = this.hosts.map((_, i) => `10.77.${i + 1}.2`);
  }

  up(): void {
    ip(["netns", "add", this.router]);
    ip(["netns", "exec", this.router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    ip(["-n", this.router, "link", "set", "lo", "up"]);
    this.hosts.forEach((ns, i) => {
      const port = `h${i}`;
      ip(["netns", "add", ns]);
      ip(["-n", this.router, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      ip(["-n", this.router, "addr", "add", `10.77.${i + 1}.1/24`, "dev", port]);
      ip(["-n", this.router, "link", "set", port, "up"]);
      ip(["-n", ns, "link", "set", "lo", "up"]);
      ip(["-n", ns, "addr", "add", `${this.addrs[i]}/24`, "dev", "eth0"]);
      ip(["-n", ns, "link", "set", "eth0", "up"]);
      ip(["-n", ns, "route", "add", "default", "via", `10.77.${i + 1}.1`]);
    });
  }

  /** Drops every packet from host `from` to host `to` (one direction only). */
  cut(from: number, to: number): void {
    const key = `${from}>${to}`;
    if (this.cuts.has(key)) return;
    ip(["-n", this.router, "rule", "add", "from", this.addrs[from]!, "to", this.addrs[to]!, "blackhole"]);
    this.cuts.add(key);
  }

  /** Cuts host `i` off from every other host, both ways. */
  isolate(i: number): void {
    for (let j = 0; j < this.hosts.length; j++) {
      if (j === i) continue;
      this.cut(i, j);
      this.cut(j, i);
    }
  }

  /** Lifts every cut. */
  heal(): void {
    for (const key of this.cuts) {
      const [from, to] = key.split(">").map(Number) as [number, number];
      ip(["-n", this.router, "rule", "del", "from", this.addrs[from]!, "to", this.addrs[to]!, "blackhole"]);
    }
    this.cuts.clear();
  }

  /** Runs argv inside host i's namespace; `ip netns exec` execs it, so the pid is the program's. */
  spawnIn(i: number, argv: string[], stdin: "ignore" | "pipe" = "ignore"): Subprocess<"ignore" | "pipe", "pipe", "pipe"> {
    const proc = spawn(["ip", "netns", "exec", this.hosts[i]!, ...argv], { stdin, stdout: "pipe", stderr: "pipe" });
    this.procs.push(proc);
    return proc;
  }

  /** Ends what it started inside the namespaces, then removes them. */
  async down(): Promise<void> {
    for (const p of this.procs.splice(0)) {
      p.kill("SIGCONT");
      p.kill("SIGKILL");
      await withTimeout(p.exited, 10_000, "a process in a test namespace did not die").catch(() => undefined);
    }
    for (const ns of [...this.hosts, this.router]) spawnSync(["ip", "netns", "del", ns], { stdout: "ignore", stderr: "ignore" });
  }
}

export interface Answer {
  /** 0: no answer (the error is in body). */
  status: number;
  body: string;
  headers: Record<string, string>;
}

/**
 * An HTTP client that lives inside one host's namespace (test/e2e/netns-client.ts under Bun),
 * so the test's requests never cross from the machine's own namespace into a test one.
 */
export class NsClient {
  private readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  private readonly waiting = new Map<number, (a: Answer) => void>();
  private next = 0;

  constructor(net: TestNet, host: number) {
    const proc = net.spawnIn(host, [process.execPath, resolve(import.meta.dir, "netns-client.ts")], "pipe") as Subprocess<"pipe", "pipe", "pipe">;
    this.proc = proc;
    void (async () => {
      const decoder = new TextDecoder();
      let buf = "";
      for await (const chunk of proc.stdout) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const { id, ...answer } = JSON.parse(buf.slice(0, nl)) as Answer & { id: number };
          buf = buf.slice(nl + 1);
          this.waiting.get(id)?.(answer);
          this.waiting.delete(id);
        }
      }
    })();
  }

  /** One request to the namespace's own agent (127.0.0.1:8500); never rejects. */
  request(method: string, path: string, body?: string, timeoutMs = 15_000): Promise<Answer> {
    const id = this.next++;
    const answer = new Promise<Answer>((resolve) => this.waiting.set(id, resolve));
    this.proc.stdin.write(`${JSON.stringify({ id, method, path, body, timeoutMs })}\n`);
    this.proc.stdin.flush();
    return answer;
  }

  get(path: string, timeoutMs?: number): Promise<Answer> {
    return this.request("GET", path, undefined, timeoutMs);
  }

  put(path: string, body: string, timeoutMs?: number): Promise<Answer> {
    return this.request("PUT", path, body, timeoutMs);
  }

  /** The leader's RPC address as this host's agent reports it; "" when none. */
  async leader(): Promise<string> {
    const a = await this.get("/v1/status/leader", 5_000);
    return a.status === 200 ? (JSON.parse(a.body) as string) : "";
  }
}

/**
 * An agent in host i's namespace: bound to its namespace address, HTTP on its own 127.0.0.1,
 * joining the servers on hosts 0..expect-1. A server unless `client`.
 */
export function startNsAgent(net: TestNet, i: number, opts: { expect: number; client?: boolean; dataDir?: string; args?: string[] }): RunningAgent {
  const dataDir = opts.dataDir ?? tempDir();
  const join = net.addrs.slice(0, opts.expect).filter((_, j) => j !== i).flatMap((a) => ["-retry-join", a]);
  const role = opts.client ? [] : ["-server", "-bootstrap-expect", String(opts.expect)];
  const argv = [BIN, "agent", ...role, ...join, "-retry-interval", "1s", ...(opts.args ?? [])];
  const proc = net.spawnIn(i, [...argv, "-data-dir", dataDir, "-node", opts.client ? `c${i}` : `s${i}`, "-bind", net.addrs[i]!, "-client", "127.0.0.1"]) as Subprocess<"ignore", "pipe", "pipe">;
  return watchAgent(proc, net.addrs[i]!, "http://127.0.0.1:8500 (in its namespace)", dataDir);
}

/** Waits until the clients `among` all name one leader, one of `among`; returns its host index. */
export function agreedLeader(net: TestNet, clients: NsClient[], among: number[], timeoutMs: number, not?: number): Promise<number> {
  return agreeOnLeader(net.addrs, (i) => clients[i]!.leader(), among, timeoutMs, not);
}
