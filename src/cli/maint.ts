import { type AgentCheck, AgentApi } from "../api/agent.ts";
import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { bool, str } from "./flags.ts";
import { call, clientFrom, clientHttpFlags, out } from "./http-flags.ts";

// `tsc maint [-enable|-disable] [-service ID] [-reason TEXT]`: with neither flag, lists what is
// in maintenance; otherwise switches the node's (or one service's) maintenance mode.

const NODE_CHECK = "_node_maintenance";
const SERVICE_CHECK_PREFIX = "_service_maintenance:";

/**
 * Consul's listing: a Node: block, then a Service: block per service in maintenance, each
 * followed by an empty line. Consul walks a Go map (random order); we list the node first,
 * then services by check ID, so the output is stable.
 */
export function maintListing(checks: Record<string, AgentCheck>, nodeName: string): string[] {
  const lines: string[] = [];
  const ordered = Object.values(checks).sort((a, b) => (a.CheckID < b.CheckID ? -1 : a.CheckID > b.CheckID ? 1 : 0));
  for (const c of ordered) {
    if (c.CheckID === NODE_CHECK) lines.unshift("Node:", `  Name:   ${nodeName}`, `  Reason: ${c.Notes}`, "");
    else if (c.CheckID.startsWith(SERVICE_CHECK_PREFIX)) lines.push("Service:", `  ID:     ${c.ServiceID}`, `  Reason: ${c.Notes}`, "");
  }
  return lines;
}

export default defineTscCommand({
  meta: { name: "maint", description: "Controls node or service maintenance mode" },
  args: {
    ...clientHttpFlags,
    enable: { type: "boolean", description: "Enable maintenance mode" },
    disable: { type: "boolean", description: "Disable maintenance mode" },
    reason: { type: "string", description: "Text describing the maintenance reason" },
    service: { type: "string", description: "Control maintenance mode for a specific service ID" },
  },
  async run(flags) {
    const enable = bool(flags.enable);
    const disable = bool(flags.disable);
    const reason = str(flags.reason) ?? "";
    const service = str(flags.service) ?? "";
    if (enable && disable) throw new CliError("Only one of -enable or -disable may be provided");
    if (!enable && reason !== "") throw new CliError("Reason may only be provided with -enable");
    if (!enable && !disable && service !== "") throw new CliError("Service requires either -enable or -disable");
    const agent = new AgentApi(clientFrom(flags));
    // Consul asks for the node's name first whatever the mode, so a dead agent fails the same way.
    const nodeName = await call("Error querying Consul agent: ", () => agent.nodeName());
    if (!enable && !disable) {
      const checks = await call("Error getting checks: ", () => agent.checks());
      for (const line of maintListing(checks, nodeName)) out(line);
      return 0;
    }
    const [verb, state] = enable ? ["enabling", "enabled"] : ["disabling", "disabled"];
    if (service === "") {
      await call(`Error ${verb} node maintenance: `, () => agent.nodeMaintenance(enable, reason));
      out(`Node maintenance is now ${state}`);
    } else {
      await call(`Error ${verb} service maintenance: `, () => agent.serviceMaintenance(service, enable, reason));
      out(`Service maintenance is now ${state} for ${JSON.stringify(service)}`);
    }
    return 0;
  },
});
