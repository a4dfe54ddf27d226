import { isIP } from "node:net";
import { bytesToIp, ipToBytes } from "../lib/ip.ts";
import type { Answer, Question } from "dns-packet";
import type { DnsConfig } from "../config/types.ts";
import type { CatalogNode, CheckServiceNode } from "../state/catalog-types.ts";
import type { ServiceNode } from "../state/catalog-types.ts";

/**
 * The reads DNS needs. A server's CatalogTable is one; a client agent builds one per query
 * from what it fetched from a server (remote.ts).
 */
export interface CatalogReader {
  getNode(ws: undefined, name: string): CatalogNode | undefined;
  checkServiceNodes(ws: undefined, name: string): { nodes: CheckServiceNode[] };
  listNodes(ws: undefined): { nodes: CatalogNode[] };
  listServices(ws: undefined): { services: Array<{ name: string; instances: ServiceNode[] }> };
}

// Answers one DNS question from the catalog, as Consul's DNS server does (agent/dns.go):
//   <node>.node[.<dc>].<domain>              A/AAAA of the node, TXT of its meta
//   [<tag>.]<service>.service[.<dc>].<domain> A/AAAA/SRV of healthy instances, shuffled
//   _<service>._<tag|tcp>[.service][.<dc>].<domain>   RFC 2782
//   <hex ip>.addr[.<dc>].<domain>            the address itself
//   <reversed ip>.in-addr.arpa / ip6.arpa    PTR to the nodes (and services) at that address
//   <domain> SOA and NS
// Pure: the store, the config and a random source in, sections out; sockets live in server.ts.

export type Rcode = "NOERROR" | "NXDOMAIN" | "SERVFAIL" | "FORMERR" | "REFUSED" | "NOTIMP";

export interface DnsResult {
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** More records existed than maxAnswers allowed. */
  cut?: boolean;
}

export interface DnsView {
  domain: string; // lower case, with the trailing dot: "consul."
  altDomain: string | undefined;
  datacenter: string;
  config: DnsConfig;
  /** The catalog to answer from; undefined on an agent that cannot reach one (SERVFAIL). */
  catalog: CatalogReader | undefined;
  random: () => number;
  nowSec: () => number;
  /** A client agent's way to a catalog: fetch what a name needs from a server first. */
  remote?: (w: Wanted) => Promise<CatalogReader>;
}

/** The name is not ours: the caller recurses (or refuses). */
export const NOT_OURS = "not-ours" as const;

type Parsed =
  | { kind: "apex" }
  | { kind: "node"; node: string; dc: string | undefined }
  | { kind: "service"; service: string; tag: string | undefined; dc: string | undefined }
  | { kind: "addr"; ip: string; dc: string | undefined }
  | { kind: "invalid" };

const QUERY_TYPES = new Set(["node", "service", "addr"]);

/** Splits a name under our domain into what it asks for. */
function parseName(rest: string): Parsed {
  if (rest === "") return { kind: "apex" };
  const labels = rest.split(".");
  const typed = parseTyped(labels);
  if (typed.kind !== "invalid") return typed;
  // RFC 2782 without ".service": _web._tcp[.dc]
  if (labels.length >= 2 && labels.length <= 3 && labels[0]!.startsWith("_") && labels[1]!.startsWith("_")) {
    const tag = labels[1]!.slice(1);
    return { kind: "service", service: labels[0]!.slice(1), tag: tag === "tcp" ? undefined : tag, dc: labels[2] };
  }
  return typed;
}

/** <prefix>.<type>[.<dc>] with type node, service or addr. */
function parseTyped(labels: string[]): Parsed {
  let typeAt = labels.length - 1;
  let dc: string | undefined;
  if (!QUERY_TYPES.has(labels[typeAt]!) && labels.length >= 2 && QUERY_TYPES.has(labels[typeAt - 1]!)) {
    dc = labels[typeAt];
    typeAt--;
  }
  const type = labels[typeAt]!;
  const prefix = labels.slice(0, typeAt);
  if (prefix.length === 0 || !QUERY_TYPES.has(type)) return { kind: "invalid" };
  switch (type) {
    case "node":
      return { kind: "node", node: prefix.join("."), dc };
    case "addr": {
      const ip = prefix.length === 1 ? hexToIp(prefix[0]!) : undefined;
      return ip ? { kind: "addr", ip, dc } : { kind: "invalid" };
    }
    default: {
      if (prefix.length === 2 && prefix[0]!.startsWith("_") && prefix[1]!.startsWith("_")) {
        const tag = prefix[1]!.slice(1);
        return { kind: "service", service: prefix[0]!.slice(1), tag: tag === "tcp" ? undefined : tag, dc };
      }
      if (prefix.length > 2) return { kind: "invalid" };
      return { kind: "service", service: prefix.at(-1)!, tag: prefix.length === 2 ? prefix[0] : undefined, dc };
    }
  }
}

function hexToIp(hex: string): string | undefined {
  return /^([0-9a-f]{8}|[0-9a-f]{32})$/.test(hex) ? bytesToIp(Buffer.from(hex, "hex")) : undefined;
}

function ipToHex(ip: string): string {
  return Buffer.from(ipToBytes(ip)).toString("hex");
}

/** What a name asks the catalog for, so a client agent knows what to fetch from a server. */
export type Wanted = { kind: "node"; name: string } | { kind: "service"; name: string } | { kind: "servers" } | { kind: "nodes" } | { kind: "none" };

export function wanted(view: Pick<DnsView, "domain" | "altDomain">, name: string): Wanted {
  const qname = fqdn(name.toLowerCase());
  if (qname.endsWith(".in-addr.arpa.") || qname.endsWith(".ip6.arpa.")) return { kind: "nodes" };
  const domain = ourSuffix(view as DnsView, qname);
  if (!domain) return { kind: "none" };
  const p = parseName(qname === domain ? "" : qname.slice(0, -domain.length - 1));
  if (p.kind === "node") return { kind: "node", name: p.node };
  if (p.kind === "service") return { kind: "service", name: p.service };
  if (p.kind === "apex") return { kind: "servers" };
  return { kind: "none" };
}

/** The domain a question is under, or undefined when it is not ours. */
function ourSuffix(view: DnsView, qname: string): string | undefined {
  for (const d of [view.domain, view.altDomain]) {
    if (!d) continue;
    if (qname === d || qname.endsWith(`.${d}`)) return d;
  }
  return undefined;
}

/** A question with its type as text ("ANY" included, which dns-packet's types leave out). */
interface Asked {
  name: string;
  type: string;
}

/**
 * `maxAnswers` lets the caller say how many answers it can send at most (UDP without EDNS):
 * only that many instances are picked and built, which keeps a 50-instance SRV query cheap.
 */
export function lookup(view: DnsView, question: Question, maxAnswers = Number.POSITIVE_INFINITY): DnsResult | typeof NOT_OURS {
  const q: Asked = { name: question.name, type: String(question.type) };
  const qname = fqdn(q.name.toLowerCase());
  if (qname.endsWith(".in-addr.arpa.") || qname.endsWith(".ip6.arpa.")) return ptr(view, q, qname);
  const domain = ourSuffix(view, qname);
  if (!domain) return NOT_OURS;
  const r = new Responder(view, q, domain, maxAnswers);
  if (!view.catalog) return r.fail("SERVFAIL");
  const rest = qname === domain ? "" : qname.slice(0, -domain.length - 1);
  const parsed = parseName(rest);
  switch (parsed.kind) {
    case "apex":
      return r.apex();
    case "invalid":
      return r.nxdomain();
    case "node":
      return parsed.dc && parsed.dc !== view.datacenter ? r.nxdomain() : r.node(parsed.node);
    case "service":
      return parsed.dc && parsed.dc !== view.datacenter ? r.nxdomain() : r.service(parsed.service, parsed.tag);
    case "addr":
      return r.addr(parsed.ip);
  }
}

function fqdn(name: string): string {
  return name.endsWith(".") ? name : `${name}.`;
}

/** dns-packet writes names without the trailing dot. */
const bare = (name: string): string => (name.endsWith(".") ? name.slice(0, -1) : name);

interface BuiltSrv {
  data: { priority: number; weight: number; port: number; target: string };
  extra: Answer[];
}

/**
 * An instance's SRV data and ADDITIONAL records, built once per catalog version: the
 * catalog hands out the same immutable CheckServiceNode until something about it changes.
 */
const srvCache = new WeakMap<CheckServiceNode, Map<string, BuiltSrv>>();

class Responder {
  private readonly answers: Answer[] = [];
  private readonly additionals: Answer[] = [];
  private cut = false;

  constructor(
    private readonly view: DnsView,
    private readonly q: Asked,
    private readonly domain: string,
    private readonly maxAnswers: number,
  ) {}

  private get catalog(): CatalogReader {
    return this.view.catalog!;
  }

  private result(rcode: Rcode, withSoa = false): DnsResult {
    return { rcode, answers: this.answers, authorities: withSoa ? [soa(this.view, this.domain)] : [], additionals: this.additionals, cut: this.cut };
  }

  fail(rcode: Rcode): DnsResult {
    return { rcode, answers: [], authorities: [], additionals: [] };
  }

  nxdomain(): DnsResult {
    return { rcode: "NXDOMAIN", answers: [], authorities: [soa(this.view, this.domain)], additionals: [] };
  }

  /** NOERROR with nothing of the asked type: NODATA, SOA in AUTHORITY. */
  private done(): DnsResult {
    return this.answers.length === 0 ? this.result("NOERROR", true) : this.result("NOERROR");
  }

  apex(): DnsResult {
    const t = this.q.type;
    if (t === "SOA" || t === "ANY") this.answers.push(soa(this.view, this.domain));
    if (t === "NS" || t === "ANY") this.nameservers();
    return this.done();
  }

  /** Up to three servers (the "consul" service) as NS, their addresses in ADDITIONAL. */
  private nameservers(): void {
    const servers = this.catalog.checkServiceNodes(undefined, "consul").nodes;
    for (const s of servers.slice(0, 3)) {
      const name = `${s.node.node.toLowerCase()}.node.${s.node.datacenter}.${this.domain}`;
      this.answers.push({ type: "NS", name: bare(this.domain), ttl: this.nodeTtl(), class: "IN", data: bare(name) });
      this.additionals.push(...addressRecords(name, s.node.address, this.nodeTtl(), "ANY"));
    }
  }

  node(name: string): DnsResult {
    const node = this.catalog.getNode(undefined, name);
    if (!node) return this.nxdomain();
    const qname = fqdn(this.q.name);
    const t = this.q.type;
    const ttl = this.nodeTtl();
    if (t === "A" || t === "AAAA" || t === "ANY" || t === "CNAME") this.answers.push(...addressRecords(qname, node.address, ttl, t));
    const txt = metaTxt(qname, node, ttl);
    if (t === "TXT" || t === "ANY") this.answers.push(...txt);
    else if (this.answers.length > 0 && this.view.config.enableAdditionalNodeMetaTxt) this.additionals.push(...txt);
    return this.done();
  }

  addr(ip: string): DnsResult {
    const t = this.q.type;
    const family = isIP(ip) === 4 ? "A" : "AAAA";
    if (t === family || t === "ANY") this.answers.push({ type: family, name: bare(fqdn(this.q.name)), ttl: 0, class: "IN", data: ip });
    return this.done();
  }

  service(name: string, tag: string | undefined): DnsResult {
    const healthy = this.healthyInstances(name, tag);
    if (healthy.length === 0) return this.nxdomain();
    const qname = fqdn(this.q.name);
    const t = this.q.type;
    const ttl = this.serviceTtl(name);
    if (t === "SRV") {
      for (const e of healthy) this.srv(qname, e, ttl);
      return this.done();
    }
    if (t !== "A" && t !== "AAAA" && t !== "ANY" && t !== "CNAME") return this.done();
    const seen = new Set<string>();
    const limit = this.view.config.aRecordLimit;
    for (const e of healthy) {
      const addr = e.service.address || e.node.address;
      if (seen.has(addr)) continue;
      seen.add(addr);
      this.answers.push(...addressRecords(qname, addr, ttl, t));
      if (limit > 0 && this.answers.length >= limit) break;
    }
    return this.done();
  }

  /** SRV to <node>.node.<dc> (or <hex>.addr.<dc> for a service address of its own), address in ADDITIONAL. */
  private srv(qname: string, e: CheckServiceNode, ttl: number): void {
    const key = `${this.domain}|${ttl}|${this.view.config.enableAdditionalNodeMetaTxt}`;
    let byKey = srvCache.get(e);
    if (!byKey) srvCache.set(e, (byKey = new Map()));
    let built = byKey.get(key);
    if (!built) byKey.set(key, (built = this.buildSrv(e, ttl)));
    this.answers.push({ type: "SRV", name: bare(qname), ttl, class: "IN", data: built.data });
    this.additionals.push(...built.extra);
  }

  private buildSrv(e: CheckServiceNode, ttl: number): BuiltSrv {
    const addr = e.service.address || e.node.address;
    const ownAddress = e.service.address !== "" && e.service.address !== e.node.address && isIP(e.service.address) !== 0;
    const target = ownAddress ? `${ipToHex(addr)}.addr.${e.node.datacenter}.${this.domain}` : isIP(addr) === 0 ? fqdn(addr) : `${e.node.node.toLowerCase()}.node.${e.node.datacenter}.${this.domain}`;
    const warning = e.checks.some((c) => c.status === "warning");
    const weight = warning ? e.service.weights.warning : e.service.weights.passing;
    const extra: Answer[] = [];
    if (isIP(addr) !== 0) extra.push(...addressRecords(target, addr, ttl, "ANY"));
    if (!ownAddress && this.view.config.enableAdditionalNodeMetaTxt) extra.push(...metaTxt(target, e.node, ttl));
    return { data: { priority: 1, weight, port: e.service.port, target: bare(target) }, extra };
  }

  /**
   * Instances with no critical check (no non-passing one with only_passing), in random order;
   * only the first maxAnswers are drawn (a partial Fisher-Yates), the rest are not needed.
   */
  private healthyInstances(name: string, tag: string | undefined): CheckServiceNode[] {
    const all = this.catalog.checkServiceNodes(undefined, name).nodes;
    const onlyPassing = this.view.config.onlyPassing;
    const kept = all.filter(
      (e) =>
        (tag === undefined || e.service.tags.some((t) => t.toLowerCase() === tag)) &&
        e.checks.every((c) => c.status === "passing" || (!onlyPassing && c.status === "warning")),
    );
    const take = Math.min(kept.length, this.maxAnswers);
    this.cut = take < kept.length;
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(this.view.random() * (kept.length - i));
      [kept[i], kept[j]] = [kept[j]!, kept[i]!];
    }
    return take < kept.length ? kept.slice(0, take) : kept;
  }

  private nodeTtl(): number {
    return Math.floor(this.view.config.nodeTtlMs / 1000);
  }

  /** service_ttl: the exact name, else the longest "prefix*", else "*", else 0. */
  private serviceTtl(name: string): number {
    const ttls = this.view.config.serviceTtlMs;
    let ms = ttls[name];
    if (ms === undefined) {
      let best = -1;
      for (const [k, v] of Object.entries(ttls)) {
        if (k.endsWith("*") && name.startsWith(k.slice(0, -1)) && k.length > best) {
          best = k.length;
          ms = v;
        }
      }
    }
    return Math.floor((ms ?? 0) / 1000);
  }
}

/** A/AAAA for an IP of the asked family, CNAME for a hostname. */
function addressRecords(name: string, addr: string, ttl: number, qtype: string): Answer[] {
  const family = isIP(addr);
  const n = bare(fqdn(name));
  if (family === 4 && (qtype === "A" || qtype === "ANY")) return [{ type: "A", name: n, ttl, class: "IN", data: addr }];
  if (family === 6 && (qtype === "AAAA" || qtype === "ANY")) return [{ type: "AAAA", name: n, ttl, class: "IN", data: addr }];
  if (family === 0 && addr !== "") return [{ type: "CNAME", name: n, ttl, class: "IN", data: bare(fqdn(addr)) }];
  return [];
}

/** Node meta as TXT, "key=value" (or just the value for rfc1035- keys), as Consul writes it. */
function metaTxt(name: string, node: CatalogNode, ttl: number): Answer[] {
  return Object.entries(node.meta)
    .filter(([k]) => !k.startsWith("consul-"))
    .map(([k, v]) => ({ type: "TXT", name: bare(fqdn(name)), ttl, class: "IN", data: [k.startsWith("rfc1035-") ? v : `${k}=${v}`] }) as Answer);
}

function soa(view: DnsView, domain: string): Answer {
  return {
    type: "SOA",
    name: bare(domain),
    ttl: 0,
    class: "IN",
    data: { mname: bare(`ns.${domain}`), rname: bare(`hostmaster.${domain}`), serial: view.nowSec() >>> 0, refresh: 3600, retry: 600, expire: 86400, minimum: 0 },
  };
}

/** Reverse lookups: the nodes, then the services, whose address is the one asked about. */
function ptr(view: DnsView, q: Asked, qname: string): DnsResult | typeof NOT_OURS {
  const ip = reverseToIp(qname);
  if (!ip || !view.catalog) return NOT_OURS;
  const answers: Answer[] = [];
  const name = bare(qname);
  for (const n of view.catalog.listNodes(undefined).nodes) {
    if (n.address === ip) answers.push({ type: "PTR", name, ttl: 0, class: "IN", data: bare(`${n.node.toLowerCase()}.node.${n.datacenter}.${view.domain}`) });
  }
  if (answers.length === 0) {
    for (const s of view.catalog.listServices(undefined).services) {
      for (const i of s.instances) {
        if (i.service.address === ip) answers.push({ type: "PTR", name, ttl: 0, class: "IN", data: bare(`${s.name.toLowerCase()}.service.${view.domain}`) });
      }
    }
  }
  if (answers.length === 0) return NOT_OURS;
  if (q.type !== "PTR" && q.type !== "ANY") return { rcode: "NOERROR", answers: [], authorities: [soa(view, view.domain)], additionals: [] };
  return { rcode: "NOERROR", answers, authorities: [], additionals: [] };
}

function reverseToIp(qname: string): string | undefined {
  if (qname.endsWith(".in-addr.arpa.")) {
    const parts = qname.slice(0, -".in-addr.arpa.".length).split(".");
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return undefined;
    return parts.reverse().join(".");
  }
  const nibbles = qname.slice(0, -".ip6.arpa.".length).split(".");
  if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
  return bytesToIp(Buffer.from(nibbles.reverse().join(""), "hex"));
}
