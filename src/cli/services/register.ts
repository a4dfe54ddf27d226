import { CliError } from "../../lib/errors.ts";
import { defineTscCommand } from "../command.ts";
import { list, str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { readServiceFiles } from "./files.ts";

// `tsc services register [-name N -id I -tag T -address A -port P -meta k=v] [FILE...]`:
// registers with the local agent (PUT /v1/agent/service/register), as Consul's command does.

export default defineTscCommand({
  meta: { name: "register", description: "Register services with the local agent" },
  args: {
    ...httpFlags,
    name: { type: "string", description: "Name of the service (when no file is given)" },
    id: { type: "string", description: "ID of the service; defaults to the name" },
    tag: { type: "string", repeatable: true, description: "Tag to add to the service (repeatable)" },
    address: { type: "string", description: "Address of the service; defaults to the node's" },
    port: { type: "string", description: "Port of the service" },
    meta: { type: "string", repeatable: true, description: "Metadata as key=value (repeatable)" },
    file: { type: "positional", description: "Service definition files", required: false },
  },
  async run(flags) {
    const name = str(flags.name);
    const files = flags._;
    if (files.length === 0 && !name) throw new CliError("Service registration requires at least one argument or flags.", 1, true);
    if (files.length > 0 && name) throw new CliError("Service registration from flags and files can not be combined.", 1, true);
    const services = files.length > 0 ? readServiceFiles(files) : [fromFlags(flags)];
    const client = clientFrom(flags);
    for (const s of services) {
      await call(`Error registering service ${JSON.stringify(s.name)}: `, () => client.put("/v1/agent/service/register", {}, s.raw));
      out(`Registered service: ${s.name}`);
    }
    return 0;
  },
});

function fromFlags(flags: Record<string, unknown> & { _: string[] }): { raw: Record<string, unknown>; id: string; name: string } {
  const name = str(flags.name as string)!;
  const raw: Record<string, unknown> = { Name: name, ID: str(flags.id as string) ?? name, Tags: list(flags.tag as string[]) };
  const address = str(flags.address as string);
  if (address) raw.Address = address;
  const port = str(flags.port as string);
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) > 65535) throw new CliError(`invalid value "${port}" for flag -port: parse error`);
    raw.Port = Number(port);
  }
  const meta: Record<string, string> = {};
  for (const kv of list(flags.meta as string[])) {
    const i = kv.indexOf("=");
    if (i < 0) throw new CliError(`invalid value "${kv}" for flag -meta: expected key=value`);
    meta[kv.slice(0, i)] = kv.slice(i + 1);
  }
  if (Object.keys(meta).length > 0) raw.Meta = meta;
  return { raw, id: raw.ID as string, name };
}
