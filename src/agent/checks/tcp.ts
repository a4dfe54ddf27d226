import { connect, isIP } from "node:net";
import type { CheckDefinition } from "../../config/definition-types.ts";
import type { HealthStatus } from "../../state/catalog-types.ts";
import { dialErrorText, joinHostPort, splitHostPort } from "./go-errors.ts";
import type { Probe, ProbeResult } from "./runner.ts";

// TCP checks as Consul's CheckTCP: a connection established within the timeout is passing
// ("TCP connect <addr>: Success"); anything else is critical with Go's dial error.

export function tcpProbe(def: CheckDefinition, timeoutMs: number): Probe {
  const addr = splitHostPort(def.tcp);
  const success: ProbeResult = { status: "passing", output: `TCP connect ${def.tcp}: Success` };
  if (typeof addr === "string") {
    const bad: ProbeResult = { status: "critical", output: `dial tcp: ${addr}` };
    return () => Promise.resolve(bad);
  }
  // Go dials the local system for an empty host.
  const host = addr.host || "localhost";
  const port = addr.port;
  const literal = isIP(host) !== 0 ? joinHostPort(host, port) : undefined;

  return (signal) =>
    new Promise((resolve) => {
      let resolved = literal;
      let done = false;
      const sock = connect({ host, port });
      const finish = (r: ProbeResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        sock.destroy();
        resolve(r);
      };
      const fail = (output: string) => finish({ status: "critical" as HealthStatus, output });
      const onAbort = () => fail("");
      // Go's dialer timeout reads "i/o timeout", against the address if it got that far.
      const timer = setTimeout(() => fail(resolved ? `dial tcp ${resolved}: i/o timeout` : `dial tcp: lookup ${host}: i/o timeout`), timeoutMs);
      sock.once("lookup", (err: Error | null, address: string) => {
        if (!err) resolved = joinHostPort(address, port);
      });
      sock.once("connect", () => finish(success));
      sock.on("error", (err: Error) => fail(dialErrorText(err, host, port)));
      signal.addEventListener("abort", onAbort);
      if (signal.aborted) onAbort();
    });
}
