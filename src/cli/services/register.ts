import { AgentApi, type AgentServiceRegistration } from "../../api/agent.ts";
import { CliError } from "../../lib/errors.ts";
import { defineTscCommand } from "../command.ts";
import { list, type ParsedFlags, str } from "../flags.ts";
import { call, clientFrom, httpFlags, out } from "../http-flags.ts";
import { readServiceFiles } from "./files.ts";
import { intFlag, mapFlag, parseServiceAddr } from "../flag-values.ts";

// `tsc services register [options] [FILE...]`: PUT /v1/agent/service/register per service,
// from definition files or from flags. With files, the flags other than -name fill what a
// file left unset (tags and meta are added), as Consul's CombineArgs does.

export default defineTscCommand({
  meta: { name: "register", description: "Register services with the local agent" },
  args: {
    ...httpFlags,
    name: { type: "string", description: "Name of the service to register for arg-based registration" },
    id: { type: "string", description: "ID of the service; defaults to the -name value" },
    address: { type: "string", description: "Address of the service" },
    port: { type: "string", description: "Port of the service" },
    tag: { type: "string", repeatable: true, description: "Tag to add to the service" },
    tags: { type: "string", description: "Comma-separated tags, added after any -tag (tsc's shorthand)" },
    meta: { type: "string", valueHint: "key=value", repeatable: true, description: "Metadata to set on the service" },
    "tagged-address": { type: "string", valueHint: "key=host:port", repeatable: true, description: "Tagged address to set on the service" },
    file: { type: "positional", description: "Service definition files (JSON, as in the config dir)", required: false },
  },
  async run(flags) {
    const fromFlags = registrationFromFlags(flags);
    const files = flags._;
    if (files.length === 0 && !fromFlags.Name) throw new CliError("Service registration requires at least one argument or flags.");
    // Consul's words, -id and all, though it is -name that conflicts.
    if (files.length > 0 && fromFlags.Name) throw new CliError("Service registration requires arguments or -id, not both.");
    const fromFiles = readServiceFiles(files).map((s) => combine(s.registration, s.given, fromFlags));
    const agent = new AgentApi(clientFrom(flags));
    // A file without services falls back to the flags, as Consul does (and the agent then names what is missing).
    for (const reg of fromFiles.length > 0 ? fromFiles : [fromFlags]) {
      await call(`Error registering service ${JSON.stringify(reg.Name ?? "")}: `, () => agent.serviceRegister(reg));
      out(`Registered service: ${reg.Name ?? ""}`);
    }
    return 0;
  },
});

/** The flags' registration; values are checked before anything else, as Go's flag parser does. */
export function registrationFromFlags(flags: ParsedFlags): AgentServiceRegistration {
  const portText = str(flags.port);
  const port = portText === undefined ? 0 : intFlag("port", portText);
  const meta = mapFlag("meta", list(flags.meta));
  const tagged: Record<string, { Address: string; Port: number }> = {};
  for (const [k, v] of Object.entries(mapFlag("tagged-address", list(flags["tagged-address"])))) {
    try {
      tagged[k] = parseServiceAddr(v);
    } catch (err) {
      throw new CliError(`Invalid Tagged Address: ${(err as Error).message}`);
    }
  }
  const tags = [...list(flags.tag), ...(str(flags.tags) ?? "").split(",").map((t) => t.trim()).filter((t) => t !== "")];
  // Unset (zero) fields stay out of the body, as Go's omitempty leaves them.
  const reg: AgentServiceRegistration = {};
  if (str(flags.id)) reg.ID = str(flags.id);
  if (str(flags.name)) reg.Name = str(flags.name);
  if (tags.length > 0) reg.Tags = tags;
  if (port !== 0) reg.Port = port;
  if (str(flags.address)) reg.Address = str(flags.address);
  if (Object.keys(tagged).length > 0) reg.TaggedAddresses = tagged;
  if (Object.keys(meta).length > 0) reg.Meta = meta;
  return reg;
}

/** Consul's CombineArgs: a flag fills a field the file left unset; tags append, meta and tagged addresses merge over. */
export function combine(file: AgentServiceRegistration, given: { id: boolean; address: boolean; port: boolean }, flags: AgentServiceRegistration): AgentServiceRegistration {
  const out: AgentServiceRegistration = { ...file };
  if (flags.ID && !given.id) out.ID = flags.ID;
  if (flags.Address && !given.address) out.Address = flags.Address;
  if (flags.Port && !given.port) out.Port = flags.Port;
  if (flags.Meta) out.Meta = { ...file.Meta, ...flags.Meta };
  if (flags.TaggedAddresses) out.TaggedAddresses = { ...file.TaggedAddresses, ...flags.TaggedAddresses };
  if (flags.Tags) out.Tags = [...(file.Tags ?? []), ...flags.Tags];
  return out;
}
