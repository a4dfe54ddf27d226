import { isIP } from "node:net";

// Check outputs carry Go's error texts verbatim in Consul ("dial tcp 127.0.0.1:80: connect:
// connection refused"); operators grep for them and alert on them, so we speak the same words
// for the failures that happen in practice and fall back to the runtime's message otherwise.

type SysError = Error & { code?: string; address?: string; port?: number; syscall?: string; hostname?: string };

/** Go's net.JoinHostPort: IPv6 literals in brackets. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's net.SplitHostPort plus a numeric port; a string is Go's error for a bad address. */
export function splitHostPort(addr: string): { host: string; port: number } | string {
  let host: string;
  let port: string;
  if (addr.startsWith("[")) {
    const end = addr.indexOf("]");
    if (end < 0) return `address ${addr}: missing ']' in address`;
    if (end + 1 === addr.length) return `address ${addr}: missing port in address`;
    if (addr[end + 1] !== ":") return `address ${addr}: missing port in address`;
    host = addr.slice(1, end);
    port = addr.slice(end + 2);
  } else {
    const colon = addr.lastIndexOf(":");
    if (colon < 0) return `address ${addr}: missing port in address`;
    host = addr.slice(0, colon);
    port = addr.slice(colon + 1);
    if (host.includes(":")) return `address ${addr}: too many colons in address`;
  }
  const n = /^\d+$/.test(port) ? Number(port) : NaN;
  if (!(n >= 0 && n <= 65535)) return `lookup tcp/${port}: unknown port`;
  return { host, port: n };
}

const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network is unreachable",
  ETIMEDOUT: "connection timed out",
  ECONNRESET: "connection reset by peer",
  EADDRNOTAVAIL: "cannot assign requested address",
  EACCES: "permission denied",
  ConnectionRefused: "connection refused", // Bun's own spelling in some paths
};

/** The text of a failed dial of host:port (Go's *net.OpError / *net.DNSError). */
export function dialErrorText(err: SysError, host: string, port: number): string {
  const code = err.code ?? "";
  if (code === "ENOTFOUND" || code === "EAI_NONAME" || code === "EAI_NODATA") return `dial tcp: lookup ${host}: no such host`;
  if (code === "EAI_AGAIN") return `dial tcp: lookup ${host}: server misbehaving`;
  const addr = joinHostPort(err.address ?? host, err.port ?? port);
  const why = CONNECT_ERRORS[code];
  return why ? `dial tcp ${addr}: connect: ${why}` : `dial tcp ${addr}: ${err.message}`;
}

const UNKNOWN_AUTHORITY = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
]);

/** A failed TLS handshake in crypto/tls's words. */
export function tlsErrorText(err: SysError & { cert?: { subjectaltname?: string } }, serverName: string): string {
  const code = err.code ?? "";
  const verify = "tls: failed to verify certificate: ";
  if (UNKNOWN_AUTHORITY.has(code)) return `${verify}x509: certificate signed by unknown authority`;
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return `${verify}x509: certificate has expired or is not yet valid`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    // Go lists the SANs of the kind it matched against: IP addresses for an IP, else names.
    const ip = isIP(serverName) !== 0;
    const prefix = ip ? "IP Address:" : "DNS:";
    const names = (err.cert?.subjectaltname ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.startsWith(prefix))
      .map((s) => s.slice(prefix.length));
    if (names.length > 0) return `${verify}x509: certificate is valid for ${names.join(", ")}, not ${serverName}`;
    return ip
      ? `${verify}x509: cannot validate certificate for ${serverName} because it doesn't contain any IP SANs`
      : `${verify}x509: certificate is not valid for any names, but wanted to match ${serverName}`;
  }
  return err.message;
}

/** An I/O failure on an established connection (Go: "read tcp a->b: read: ..."). */
export function ioErrorText(err: SysError, local: string, remote: string): string {
  const code = err.code ?? "";
  if (code === "ECONNRESET") return `read tcp ${local}->${remote}: read: connection reset by peer`;
  if (code === "EPIPE") return `write tcp ${local}->${remote}: write: broken pipe`;
  return err.message;
}
