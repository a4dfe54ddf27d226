import { goRegExp } from "../lib/go-regexp.ts";
import { expectOk } from "../api/client.ts";
import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { str } from "./flags.ts";
import { call, clientFrom, clientHttpFlags, out } from "./http-flags.ts";

// `tsc event -name NAME [-node RE] [-service RE] [-tag RE] [PAYLOAD]`: fires a user event
// across the datacenter, as Consul's command/event (filters checked here first, then the
// agent is asked for its name, then the event goes out).

export default defineTscCommand({
  meta: { name: "event", description: "Fire a new event" },
  args: {
    ...clientHttpFlags,
    name: { type: "string", description: "Name of the event.", valueHint: "name" },
    node: { type: "string", description: "Regular expression to filter on node names.", valueHint: "regexp" },
    service: { type: "string", description: "Regular expression to filter on service instances.", valueHint: "regexp" },
    tag: { type: "string", description: "Regular expression to filter on service tags. Must be used with -service.", valueHint: "regexp" },
    payload: { type: "positional", description: "Optional payload", required: false },
  },
  async run(flags) {
    const name = str(flags.name) ?? "";
    const node = str(flags.node) ?? "";
    const service = str(flags.service) ?? "";
    const tag = str(flags.tag) ?? "";
    if (name === "") throw new CliError("Event name must be specified", 1, true);
    for (const [what, pattern] of [
      ["node", node],
      ["service", service],
      ["tag", tag],
    ] as const) {
      if (pattern === "") continue;
      try {
        goRegExp(pattern);
      } catch (err) {
        throw new CliError(`Failed to compile ${what} filter regexp: ${(err as Error).message}`);
      }
    }
    if (tag !== "" && service === "") throw new CliError("Cannot provide tag filter without service filter.");
    if (flags._.length > 1) throw new CliError("Too many command line arguments.", 1, true);
    const payload = flags._[0];
    const client = clientFrom(flags);
    await call("Error querying Consul agent: ", () => client.getJson("/v1/agent/self"));
    const query = { node: node || undefined, service: service || undefined, tag: tag || undefined };
    // The payload is sent as it is, not as JSON.
    const r = await call("Error firing event: ", async () => expectOk(await client.request("PUT", `/v1/event/fire/${encodeURIComponent(name)}`, query, payload)));
    const body = JSON.parse(Buffer.from(r.body).toString()) as { ID: string };
    out(`Event ID: ${body.ID}`);
    return 0;
  },
});
