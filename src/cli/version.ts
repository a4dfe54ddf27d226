import { CONSUL_COMPAT_VERSION, PROTOCOL, REVISION, VERSION } from "../version.ts";
import { CliError } from "../lib/errors.ts";
import { defineTscCommand } from "./command.ts";
import { str } from "./flags.ts";

export default defineTscCommand({
  meta: { name: "version", description: "Print the version" },
  args: { format: { type: "string", description: "Output format: pretty or json", default: "pretty" } },
  run(f) {
    const format = str(f.format) ?? "pretty";
    if (format === "json") {
      const info = { Version: CONSUL_COMPAT_VERSION, TscVersion: VERSION, Revision: REVISION, Prerelease: "", RPC: { Default: 2, Min: 2, Max: 3 } };
      process.stdout.write(`${JSON.stringify(info, null, 3)}\n`);
      return 0;
    }
    if (format !== "pretty") throw new CliError(`Unknown format: ${format}`);
    process.stdout.write(
      `tsc v${VERSION} (Consul v${CONSUL_COMPAT_VERSION} compatible)\nRevision ${REVISION}\n` +
        `Protocol ${PROTOCOL.default} spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when speaking to compatible agents)\n`,
    );
    return 0;
  },
});
