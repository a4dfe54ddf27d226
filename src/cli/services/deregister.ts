import { AgentApi } from "../../api/agent.ts";
import { CliError } from "../../lib/errors.ts";
import { defineTscCommand } from "../command.ts";
import { str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { readServiceFiles } from "./files.ts";

// `tsc services deregister [-id ID] [FILE...]`: by ID, or every service a file defines (its
// ID, else its name).

export default defineTscCommand({
  meta: { name: "deregister", description: "Deregister services with the local agent" },
  args: {
    ...httpFlags,
    id: { type: "string", description: "ID to delete. This must not be set if arguments are given" },
    file: { type: "positional", description: "Service definition files (JSON, as in the config dir)", required: false },
  },
  async run(flags) {
    const id = str(flags.id) ?? "";
    const files = flags._;
    if (files.length === 0 && id === "") throw new CliError("Service deregistration requires at least one argument or -id.");
    if (files.length > 0 && id !== "") throw new CliError("Service deregistration requires arguments or -id, not both.");
    const services = files.length > 0 ? readServiceFiles(files).map((s) => ({ id: s.registration.ID || s.registration.Name || "", name: s.registration.Name ?? "" })) : [{ id, name: "" }];
    const agent = new AgentApi(clientFrom(flags));
    for (const s of services) {
      if (s.id === "") continue;
      // Consul quotes the service's name here, which is empty for -id.
      await call(`Error deregistering service ${JSON.stringify(s.name)}: `, () => agent.serviceDeregister(s.id));
      out(`Deregistered service: ${s.id}`);
    }
    return 0;
  },
});
