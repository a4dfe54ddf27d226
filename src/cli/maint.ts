import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { bool, str } from "./flags.ts";
import { call, clientFrom, httpFlags, out } from "./http-flags.ts";

// `tsc maint [-enable|-disable] [-service ID] [-reason TEXT]`: with no flag, lists what is in
// maintenance; otherwise toggles the node's or one service's maintenance mode.

interface AgentCheck {
  CheckID: string;
  ServiceID: string;
  Notes: string;
}

/** Consul's listing: a Node: block and one Service: block per service in maintenance. */
export function maintListing(checks: Record<string, AgentCheck>, nodeName: string): string[] {
  const lines: string[] = [];
  for (const c of Object.values(checks)) {
    if (c.CheckID === "_node_maintenance") lines.push("Node:", `  Name:   ${nodeName}`, `  Reason: ${c.Notes}`, "");
    else if (c.CheckID.startsWith("_service_maintenance:")) lines.push("Service:", `  ID:     ${c.ServiceID}`, `  Reason: ${c.Notes}`, "");
  }
  return lines;
}

export default defineTscCommand({
  meta: { name: "maint", description: "Controls node or service maintenance mode" },
  args: {
    ...httpFlags,
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
    if (enable && disable) throw new CliError("Only one of -enable or -disable may be provided", 1);
    if (!enable && reason !== "") throw new CliError("Reason may only be provided with -enable", 1);
    if (!enable && !disable && service !== "") throw new CliError("Service requires either -enable or -disable", 1);
    const client = clientFrom(flags);
    if (!enable && !disable) {
      const self = await call("Error querying Consul agent: ", () => client.agentSelf());
      const nodeName = String((self.Config as { NodeName?: string } | undefined)?.NodeName ?? "");
      const checks = await call("Error querying Consul agent: ", () => client.getJson<Record<string, AgentCheck>>("/v1/agent/checks"));
      for (const line of maintListing(checks, nodeName)) out(line);
      return 0;
    }
    const q = { enable: String(enable), reason: reason || undefined };
    const verb = enable ? "enabling" : "disabling";
    const state = enable ? "enabled" : "disabled";
    if (service === "") {
      await call(`Error ${verb} node maintenance: `, () => client.put("/v1/agent/maintenance", q));
      out(`Node maintenance is now ${state}`);
    } else {
      await call(`Error ${verb} service maintenance: `, () => client.put(`/v1/agent/service/maintenance/${encodeURIComponent(service)}`, q));
      out(`Service maintenance is now ${state} for ${JSON.stringify(service)}`);
    }
    return 0;
  },
});
