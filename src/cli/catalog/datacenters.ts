import { CliError } from "../../lib/errors.ts";
import { defineTscCommand } from "../command.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";

// `tsc catalog datacenters`: one datacenter per line.

export default defineTscCommand({
  meta: { name: "datacenters", description: "List all known datacenters" },
  args: { ...httpFlags },
  async run(flags) {
    const client = clientFrom(flags);
    const dcs = await call("Error listing datacenters: ", () => client.getJson<string[]>("/v1/catalog/datacenters"));
    if (dcs.length === 0) throw new CliError("No datacenters found");
    for (const dc of dcs) out(dc);
    return 0;
  },
});
