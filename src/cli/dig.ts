import type { Answer, DecodedPacket, RecordType } from "dns-packet";
import { type DnsExchange, dnsQuery } from "../dns/client.ts";
import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { str } from "./flags.ts";
import { out } from "./http-flags.ts";

// `tsc dig [@server] [-p port] NAME [TYPE] [+tcp] [+short] [-x ADDR]`: what
// `dig @127.0.0.1 -p 8600 NAME` shows, so operators need no dig. The server defaults to the
// agent's own DNS address (the host of -http-addr / CONSUL_HTTP_ADDR, port 8600).

const TYPES = new Set(["A", "AAAA", "ANY", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "CAA", "DS", "DNSKEY"]);

export default defineTscCommand({
  meta: { name: "dig", description: "Query the agent's DNS interface, printing what dig prints" },
  args: {
    p: { type: "string", description: "DNS port (default 8600)" },
    x: { type: "string", description: "Reverse lookup of an address (PTR)" },
    "http-addr": { type: "string", description: "Agent address; its host is the default DNS server (also CONSUL_HTTP_ADDR)" },
    query: { type: "positional", description: "[@server] NAME [TYPE] [+tcp] [+short] [+norecurse] [+time=N]", required: false },
  },
  async run(flags) {
    let server: string | undefined;
    let name: string | undefined;
    let type = "A";
    const opts = { tcp: false, short: false, recurse: true, timeSec: 5 };
    for (const arg of flags._) {
      if (arg.startsWith("@")) server = arg.slice(1);
      else if (arg === "+tcp" || arg === "+vc") opts.tcp = true;
      else if (arg === "+short") opts.short = true;
      else if (arg === "+norecurse" || arg === "+norec") opts.recurse = false;
      else if (arg === "+recurse" || arg === "+notcp") continue;
      else if (/^\+time=\d+$/.test(arg)) opts.timeSec = Math.max(1, Number(arg.slice(6)));
      else if (arg.startsWith("+")) throw new CliError(`Invalid option: ${arg}`);
      else if (name !== undefined && TYPES.has(arg.toUpperCase())) type = arg.toUpperCase();
      else if (name === undefined) name = arg;
      else throw new CliError(`Too many arguments: ${arg}`);
    }
    const reverse = str(flags.x);
    if (reverse) {
      name = reverseName(reverse);
      type = "PTR";
    }
    if (!name) throw new CliError("Usage: tsc dig [@server] [-p port] NAME [TYPE] [+tcp] [+short]", 1);
    server ??= defaultServer(str(flags["http-addr"]) || process.env.CONSUL_HTTP_ADDR || process.env.TSC_HTTP_ADDR);
    const portText = str(flags.p) ?? "8600";
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new CliError(`Couldn't parse port number: ${portText}`);
    const port = Number(portText);
    const ex = await dnsQuery({ server, port, name, type: type as RecordType, tcp: opts.tcp, recurse: opts.recurse, timeoutMs: opts.timeSec * 1000 });
    if (!ex) {
      out(";; connection timed out; no servers could be reached");
      return 9;
    }
    if (opts.short) {
      for (const a of ex.response.answers ?? []) out(rdata(a));
      return 0;
    }
    const cmd = [`@${server}`, ...(port === 53 ? [] : ["-p", String(port)]), name, ...(type === "A" ? [] : [type]), ...(opts.tcp ? ["+tcp"] : [])];
    out(format(ex, cmd.join(" "), server, port));
    return 0;
  },
});

function defaultServer(httpAddr: string | undefined): string {
  if (!httpAddr) return "127.0.0.1";
  const host = httpAddr.replace(/^https?:\/\//, "").replace(/:\d+\/?$/, "").replace(/^\[|\]$/g, "");
  return host === "" || host === "localhost" || host.startsWith("unix:") ? "127.0.0.1" : host;
}

function reverseName(addr: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(addr)) return `${addr.split(".").reverse().join(".")}.in-addr.arpa.`;
  throw new CliError(`Invalid IP address: ${addr}`);
}

/** dig's layout: owner name, then tabs to column 24, TTL, class, type, data. */
function recordLine(a: Answer): string {
  const owner = fqdn(a.name);
  const tabs = "\t".repeat(Math.max(1, Math.ceil((24 - owner.length) / 8)));
  return `${owner}${tabs}${(a as { ttl?: number }).ttl ?? 0}\tIN\t${a.type}\t${rdata(a)}`;
}

function rdata(a: Answer): string {
  const d = (a as { data?: unknown }).data;
  switch (a.type) {
    case "A":
    case "AAAA":
      return String(d);
    case "NS":
    case "CNAME":
    case "PTR":
      return fqdn(String(d));
    case "SRV": {
      const s = d as { priority: number; weight: number; port: number; target: string };
      return `${s.priority} ${s.weight} ${s.port} ${fqdn(s.target)}`;
    }
    case "SOA": {
      const s = d as { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
      return `${fqdn(s.mname)} ${fqdn(s.rname)} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
    case "TXT":
      return (Array.isArray(d) ? d : [d]).map((t) => JSON.stringify(Buffer.isBuffer(t) ? t.toString() : String(t))).join(" ");
    default:
      return Buffer.isBuffer(d) ? `\\# ${d.length} ${d.toString("hex")}` : JSON.stringify(d);
  }
}

const fqdn = (n: string): string => (n.endsWith(".") ? n : `${n}.`);

export function format(ex: DnsExchange, cmdline: string, server: string, port: number): string {
  const r = ex.response as DecodedPacket & { opcode?: string; rcode?: string };
  const flagNames = [
    ["qr", r.flag_qr],
    ["aa", r.flag_aa],
    ["tc", r.flag_tc],
    ["rd", r.flag_rd],
    ["ra", r.flag_ra],
    ["ad", r.flag_ad],
    ["cd", r.flag_cd],
  ]
    .filter(([, on]) => on)
    .map(([n]) => n)
    .join(" ");
  const additionals = (r.additionals ?? []).filter((a) => a.type !== "OPT");
  const opt = (r.additionals ?? []).find((a) => a.type === "OPT") as { udpPayloadSize?: number } | undefined;
  const lines = [
    "",
    `; <<>> tsc dig <<>> ${cmdline}`,
    ";; global options: +cmd",
    ";; Got answer:",
    `;; ->>HEADER<<- opcode: ${r.opcode ?? "QUERY"}, status: ${r.rcode ?? "NOERROR"}, id: ${r.id ?? 0}`,
    `;; flags: ${flagNames}; QUERY: ${r.questions?.length ?? 0}, ANSWER: ${r.answers?.length ?? 0}, AUTHORITY: ${r.authorities?.length ?? 0}, ADDITIONAL: ${(r.additionals ?? []).length}`,
  ];
  if (r.flag_rd && !r.flag_ra) lines.push(";; WARNING: recursion requested but not available");
  if (opt) lines.push("", ";; OPT PSEUDOSECTION:", `; EDNS: version: 0, flags:; udp: ${opt.udpPayloadSize ?? 512}`);
  lines.push(";; QUESTION SECTION:");
  for (const q of r.questions ?? []) {
    const owner = `;${fqdn(q.name)}`;
    lines.push(`${owner}${"\t".repeat(Math.max(1, Math.ceil((24 - owner.length) / 8)))}IN\t${q.type}`);
  }
  for (const [title, records] of [
    ["ANSWER", r.answers ?? []],
    ["AUTHORITY", r.authorities ?? []],
    ["ADDITIONAL", additionals],
  ] as const) {
    if (records.length === 0) continue;
    lines.push("", `;; ${title} SECTION:`, ...records.map(recordLine));
  }
  lines.push(
    "",
    `;; Query time: ${Math.round(ex.elapsedMs)} msec`,
    `;; SERVER: ${server}#${port}(${server}) (${ex.transport})`,
    `;; WHEN: ${digDate(new Date())}`,
    `;; MSG SIZE  rcvd: ${ex.size}`,
    "",
  );
  return lines.join("\n");
}

/** dig's WHEN line: "Wed Nov 25 08:03:19 UTC 2026". */
function digDate(d: Date): string {
  const [wd, day, mon, year, time] = d.toUTCString().replace(",", "").split(" ") as [string, string, string, string, string];
  return `${wd} ${mon} ${day} ${time} UTC ${year}`;
}
