import { CliError } from "../../lib/errors.ts";
import { defineTscCommand } from "../command.ts";
import { str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { readServiceFiles } from "./files.ts";

// `tsc services deregister [-id ID] [FILE...]`: removes services from the local agent.

export default defineTscCommand({
  meta: { name: "deregister", description: "Deregister services from the local agent" },
  args: {
    ...httpFlags,
    id: { type: "string", description: "ID of the service to deregister" },
    file: { type: "positional", description: "Service definition files", required: false },
  },
  async run(flags) {
    const id = str(flags.id);
    const files = flags._;
    if (files.length === 0 && !id) throw new CliError("Service deregistration requires at least one argument or -id.", 1, true);
    if (files.length > 0 && id) throw new CliError("Service deregistration from -id and files can not be combined.", 1, true);
    const ids = id ? [id] : readServiceFiles(files).map((s) => s.id);
    const client = clientFrom(flags);
    for (const sid of ids) {
      await call(`Error deregistering service ${JSON.stringify(sid)}: `, () => client.put(`/v1/agent/service/deregister/${encodeURIComponent(sid)}`));
      out(`Deregistered service: ${sid}`);
    }
    return 0;
  },
});
