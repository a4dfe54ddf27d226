import { createSocket } from "node:dgram";
import { isIP } from "node:net";

/** Sends one datagram and waits for the reply with the same ID. */
export function udpExchange(msg: Buffer, host: string, port: number, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket(isIP(host) === 6 ? "udp6" : "udp4");
    const id = msg.readUInt16BE(0);
    const done = (out: Buffer | undefined): void => {
      clearTimeout(timer);
      sock.close();
      resolve(out);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on("message", (reply) => {
      if (reply.length >= 2 && reply.readUInt16BE(0) === id) done(reply);
    });
    sock.on("error", () => done(undefined));
    sock.send(msg, port, host);
  });
}
