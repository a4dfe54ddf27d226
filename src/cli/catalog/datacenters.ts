import { CatalogApi } from "../../api/catalog.ts";
import { defineTscCommand } from "../command.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { noArguments } from "./args.ts";

// `tsc catalog datacenters`: one a line, nearest first, as the servers order them.

export default defineTscCommand({
  meta: { name: "datacenters", description: "Lists all known datacenters" },
  args: { ...httpFlags },
  async run(flags) {
    noArguments(flags._);
    const catalog = new CatalogApi(clientFrom(flags));
    for (const dc of await call("Error listing datacenters: ", () => catalog.datacenters())) out(dc);
    return 0;
  },
});
