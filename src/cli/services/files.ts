import { readFileSync } from "node:fs";
import type { AgentServiceCheck, AgentServiceRegistration } from "../../api/agent.ts";
import { DefinitionError, parseServiceDefinition } from "../../config/definitions.ts";
import type { CheckDefinition, ServiceDefinition } from "../../config/definition-types.ts";
import { parseJson } from "../../config/parse-json.ts";
import { CliError } from "../../lib/errors.ts";
import { formatDurationMs } from "../../lib/duration.ts";
import { field, FieldReader, isObject } from "../../lib/fields.ts";
import { fsReason } from "../../lib/fs-reason.ts";

// Service definition files, shaped like config files: `service` and/or `services` (any key
// casing, as Consul's decoder matches them). Each is checked with the agent's own definition
// parser before anything is sent, then sent as Consul's api.AgentServiceRegistration.

export interface FileService {
  registration: AgentServiceRegistration;
  /** What the file itself set, so flags fill only the gaps (Consul's CombineArgs). */
  given: { id: boolean; address: boolean; port: boolean };
}

/** Every service in `files`, in order: per file its `services`, then its `service`, as Consul appends them. */
export function readServiceFiles(files: string[]): FileService[] {
  return files.flatMap((file) => {
    const fail = (why: string) => new CliError(`Error: ${file}: ${why}`);
    if (file.endsWith(".hcl")) throw fail("HCL config is not supported yet, use JSON");
    let text: string;
    try {
      text = readFileSync(file, "utf8").replace(/^\uFEFF/, "");
    } catch (err) {
      throw fail(fsReason(err));
    }
    if (text.trim() === "") return [];
    const json = parseJson(text);
    if (!json.ok) throw fail(json.error);
    if (!isObject(json.value)) throw fail("must be a JSON object");
    const raws: unknown[] = [];
    const many = field(json.value, "services");
    if (many !== undefined && many !== null) {
      if (!Array.isArray(many)) throw fail("services: must be an array of objects");
      raws.push(...many);
    }
    const one = field(json.value, "service");
    if (one !== undefined && one !== null) raws.push(one);
    return raws.map((raw) => {
      try {
        return fromDefinition(parseServiceDefinition(raw), raw as Record<string, unknown>);
      } catch (err) {
        if (err instanceof DefinitionError) throw fail(err.message);
        throw err;
      }
    });
  });
}

function fromDefinition(def: ServiceDefinition, raw: Record<string, unknown>): FileService {
  const r = new FieldReader(raw, "service", { ignoreUnderscores: true, error: (w, n, want) => new Error(`${w}: ${n} must be ${want}`) });
  return { registration: registrationOf(def), given: { id: r.str("id") !== "", address: def.address !== "", port: def.port !== 0 } };
}

/** A parsed definition as the register endpoint's PascalCase body, zero values left out. */
export function registrationOf(def: ServiceDefinition): AgentServiceRegistration {
  const reg: AgentServiceRegistration = { ID: def.id, Name: def.name };
  if (def.tags.length > 0) reg.Tags = def.tags;
  if (def.port !== 0) reg.Port = def.port;
  if (def.address !== "") reg.Address = def.address;
  const tagged = Object.entries(def.taggedAddresses);
  if (tagged.length > 0) reg.TaggedAddresses = Object.fromEntries(tagged.map(([k, a]) => [k, { Address: a.address, Port: a.port }]));
  if (def.enableTagOverride) reg.EnableTagOverride = true;
  if (Object.keys(def.meta).length > 0) reg.Meta = def.meta;
  if (def.weights.passing !== 1 || def.weights.warning !== 1) reg.Weights = { Passing: def.weights.passing, Warning: def.weights.warning };
  if (def.checks.length > 0) reg.Checks = def.checks.map(checkOf);
  return reg;
}

function checkOf(c: CheckDefinition): AgentServiceCheck {
  const out: AgentServiceCheck = { CheckID: c.id, Name: c.name };
  const set = <K extends keyof AgentServiceCheck>(key: K, value: AgentServiceCheck[K], unset: unknown) => {
    if (value !== unset) out[key] = value;
  };
  const duration = (ms: number) => (ms > 0 ? formatDurationMs(ms) : undefined);
  set("Notes", c.notes, "");
  set("Status", c.status, "critical"); // the agent's default anyway
  set("Script", c.script, "");
  if (c.args.length > 0) out.ScriptArgs = c.args;
  set("HTTP", c.http, "");
  set("Method", c.method, "");
  if (Object.keys(c.header).length > 0) out.Header = c.header;
  set("Body", c.body, "");
  set("TLSServerName", c.tlsServerName, "");
  set("TLSSkipVerify", c.tlsSkipVerify, false);
  set("DisableRedirects", c.disableRedirects, false);
  set("TCP", c.tcp, "");
  set("TTL", duration(c.ttlMs), undefined);
  set("AliasNode", c.aliasNode, "");
  set("AliasService", c.aliasService, "");
  set("Interval", duration(c.intervalMs), undefined);
  set("Timeout", duration(c.timeoutMs), undefined);
  set("DeregisterCriticalServiceAfter", duration(c.deregisterCriticalServiceAfterMs), undefined);
  set("SuccessBeforePassing", c.successBeforePassing, 0);
  set("FailuresBeforeWarning", c.failuresBeforeWarning, 0);
  set("FailuresBeforeCritical", c.failuresBeforeCritical, 0);
  set("OutputMaxSize", c.outputMaxSize, 0);
  return out;
}
