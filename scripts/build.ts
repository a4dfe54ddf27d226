// Builds the one standalone executable dist/tsc, stamping the git revision and build date.
import { $ } from "bun";

const revision = (await $`git rev-parse --short HEAD`.nothrow().quiet().text()).trim() || "unknown";
const date = new Date().toISOString();
await $`bun build --compile --minify --sourcemap src/main.ts --outfile dist/tsc --define BUILD_REVISION=${JSON.stringify(revision)} --define BUILD_DATE=${JSON.stringify(date)}`;
console.log(`built dist/tsc (${revision})`);
