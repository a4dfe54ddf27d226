import { Agent } from "../agent/agent.ts";
import { agentFlags, flagsToFragment } from "../config/flags.ts";
import { loadConfig } from "../config/load.ts";
import type { AgentConfig, LoadedConfig } from "../config/types.ts";
import { CliError, ConfigError } from "../lib/errors.ts";
import { createLogger } from "../lib/logger.ts";
import { CONSUL_COMPAT_VERSION, VERSION } from "../version.ts";
import { defineTscCommand } from "./command.ts";
import { bool, type FlagSpec, list, type ParsedFlags } from "./flags.ts";

// `tsc agent ...`: load and validate the configuration, print the banner operators know,
// run until a signal. SIGINT/SIGTERM stop cleanly (log flushed, pid file removed); whether
// that counts as a graceful leave follows Consul's skip_leave_on_interrupt/leave_on_terminate.

function load(f: ParsedFlags): LoadedConfig {
  try {
    return loadConfig({
      configDirs: list(f["config-dir"]),
      configFiles: list(f["config-file"]),
      flags: flagsToFragment(f),
      dev: bool(f.dev),
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`==> ${err.message}`);
    throw err;
  }
}

function banner(c: AgentConfig, agent: Agent): string {
  const rows: Array<[string, string]> = [
    ["Version", `'${CONSUL_COMPAT_VERSION}' (tsc ${VERSION})`],
    ["Node ID", `'${agent.nodeId}'`],
    ["Node name", `'${c.nodeName}'`],
    ["Datacenter", `'${c.datacenter}' (Segment: '${c.server ? "<all>" : ""}')`],
    ["Server", `${c.server} (Bootstrap: ${c.bootstrap})`],
    ["Client Addr", `[${c.clientAddrs.join(" ")}] (HTTP: ${c.ports.http}, HTTPS: ${c.ports.https}, gRPC: ${c.ports.grpc}, gRPC-TLS: -1, DNS: ${c.ports.dns})`],
    ["Cluster Addr", `${agent.advertiseAddr} (LAN: ${c.ports.serfLan}, WAN: ${c.ports.serfWan})`],
    ["Gossip Encryption", String(c.encrypt !== undefined)],
    ["Auto-Encrypt-TLS", "false"],
    ["ACLs Enabled", "false"],
  ];
  const lines = rows.map(([k, v]) => `    ${k.padStart(17)}: ${v}`);
  return `==> Starting Consul agent...\n${lines.join("\n")}\n\n==> Log data will now stream in as it occurs:\n\n`;
}

export default defineTscCommand({
  meta: { name: "agent", description: "Run an agent: a client, or a server with -server" },
  args: agentFlags as FlagSpec,
  async run(f) {
    const loaded = load(f);
    const config = loaded.config;
    const logger = createLogger({ level: config.logLevel, json: config.logJson });
    const agent = new Agent(config, logger.withTag("agent"), () => load(f));
    process.stdout.write(banner(config, agent));
    for (const w of loaded.warnings) logger.withTag("agent").warn(w);
    try {
      await agent.start();
    } catch (err) {
      await agent.stop();
      throw new CliError(`==> Error starting agent: ${(err as Error).message}`);
    }
    const log = logger.withTag("agent");
    log.info("Consul agent running!");
    return new Promise<number>((resolve) => {
      let signals = 0;
      const stopOn = async (sig: "SIGINT" | "SIGTERM"): Promise<void> => {
        const name = sig === "SIGINT" ? "interrupt" : "terminated";
        log.info(`Caught signal: ${name}`);
        if (++signals > 1) {
          log.info("Caught second signal, Exiting");
          resolve(1);
          return;
        }
        const graceful = sig === "SIGINT" ? !config.skipLeaveOnInterrupt : config.leaveOnTerminate;
        if (graceful) log.info("Gracefully shutting down agent...");
        else log.info("Graceful shutdown disabled. Exiting");
        await agent.stop({ leave: graceful });
        if (graceful) log.info("Graceful exit completed");
        const code = graceful ? 0 : 1;
        log.info(`Exit code: code=${code}`);
        resolve(code);
      };
      // PUT /v1/agent/leave has left the cluster and stopped the agent: exit as a graceful leave does.
      agent.onLeave = () => {
        log.info("Graceful exit completed");
        resolve(0);
      };
      agent.onFatal = (err) => {
        log.error(err.message);
        void agent.stop().finally(() => resolve(1));
      };
      process.on("SIGINT", () => void stopOn("SIGINT"));
      process.on("SIGTERM", () => void stopOn("SIGTERM"));
      process.on("SIGHUP", () => {
        log.info("Caught signal: hangup");
        log.info("Reloading configuration...");
        try {
          agent.reload();
        } catch (err) {
          // The running configuration stays; the reason names the file, key and problem.
          log.error((err as Error).message);
        }
      });
    });
  },
});
