// IP addresses as text and as the 4 or 16 bytes that gossip carries and DNS writes.

/** "10.0.0.1" or "2001:db8::1" to its 4 or 16 bytes. */
export function ipToBytes(ip: string): Uint8Array {
  if (ip.includes(":")) {
    const [head, tail] = ip.split("::") as [string, string | undefined];
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill("0"), ...t];
    const out = new Uint8Array(16);
    groups.forEach((g, i) => {
      const v = Number.parseInt(g, 16);
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    });
    return out;
  }
  return Uint8Array.from(ip.split(".").map(Number));
}

/** 4 bytes to dotted IPv4; 16 to IPv6 in canonical form (zero runs compressed, as Go writes it). */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join(".");
  const groups: string[] = [];
  for (let i = 0; i < b.length; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  if (b.length !== 16) return groups.join(":");
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/** A peer's address as memberlist reads it: a Go node bound to 0.0.0.0 sends IPv4-mapped IPv6. */
export function peerIp(b: Uint8Array): string {
  const mapped = b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return bytesToIp(mapped ? b.subarray(12) : b);
}

/** "host", "host:port", "[v6]" or "[v6]:port" (a bare IPv6 address too), with a default port. */
export function splitHostPort(addr: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr) ?? /^([^:]+)(?::(\d+))?$/.exec(addr);
  if (!m) return { host: addr, port: defaultPort };
  return { host: m[1]!, port: m[2] ? Number(m[2]) : defaultPort };
}
