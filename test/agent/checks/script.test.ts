import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCheckRunner, type CheckRunner } from "../../../src/agent/checks/runner.ts";
import { checkDef, OPTS, recordingHost, runOnce } from "./helpers.ts";

// Real scripts through /bin/sh, real process groups, real kills.

const dir = mkdtempSync(join(tmpdir(), "tsc-script-checks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether a process still exists; a zombie nobody has reaped yet counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

describe("script checks", () => {
  test("exit 0 passing, 1 warning, anything else critical", async () => {
    expect(await runOnce({ script: "echo fine" })).toEqual({ status: "passing", output: "fine\n" });
    expect(await runOnce({ script: "echo slow; exit 1" })).toEqual({ status: "warning", output: "slow\n" });
    expect(await runOnce({ args: ["sh", "-c", "exit 2"] })).toEqual({ status: "critical", output: "" });
    expect(await runOnce({ args: ["sh", "-c", "kill -TERM $$"] })).toEqual({ status: "critical", output: "" });
  });

  test("stdout and stderr interleave in one output, as written", async () => {
    const r = await runOnce({ script: "echo one; echo two >&2; echo three; echo four >&2" });
    expect(r.output).toBe("one\ntwo\nthree\nfour\n");
  });

  test("args run without a shell; the agent's environment is passed", async () => {
    expect((await runOnce({ args: ["echo", "$HOME", "a b"] })).output).toBe("$HOME a b\n");
    process.env.TSC_CHECK_TEST_VAR = "from-agent";
    try {
      expect((await runOnce({ script: 'echo "$TSC_CHECK_TEST_VAR"' })).output).toBe("from-agent\n");
    } finally {
      delete process.env.TSC_CHECK_TEST_VAR;
    }
  });

  test("a command that cannot start is critical in Go's words", async () => {
    expect(await runOnce({ args: ["tsc-no-such-command"] })).toEqual({
      status: "critical",
      output: 'exec: "tsc-no-such-command": executable file not found in $PATH',
    });
    expect(await runOnce({ args: ["/nonexistent/check"] })).toEqual({ status: "critical", output: "fork/exec /nonexistent/check: no such file or directory" });
  });

  test("output over the cap keeps its last bytes with Consul's note", async () => {
    expect((await runOnce({ script: "printf 'abcdefghij0123456789'" }, { outputMaxSize: 10 })).output).toBe("Captured 10 of 20 bytes\n...\n0123456789");
    // The check's own output_max_size wins when it is smaller than the agent's.
    expect((await runOnce({ script: "printf 'abcdefghij0123456789'", output_max_size: 4 })).output).toBe("Captured 4 of 20 bytes\n...\n6789");
    const big = await runOnce({ script: "head -c 100000 /dev/zero | tr '\\0' x; echo END" });
    expect(big.output).toStartWith("Captured 4096 of 100004 bytes\n...\nxxx");
    expect(big.output).toEndWith("xxxEND\n");
  });

  test("a timeout kills the script's whole process group and reports Consul's text", async () => {
    const pids = join(dir, "pids");
    const started = performance.now();
    const r = await runOnce({ script: `echo started; sleep 30 & echo $$ $! > ${pids}; sleep 30` }, { timeoutMs: 200 });
    expect(performance.now() - started).toBeLessThan(1500);
    expect(r).toEqual({ status: "critical", output: "Timed out (200ms) running check\n\nstarted\n" });
    const [shell, child] = readFileSync(pids, "utf8").trim().split(" ").map(Number) as [number, number];
    await until(() => !alive(shell) && !alive(child));
  });

  test("a timeout with no output says only that", async () => {
    expect(await runOnce({ args: ["sleep", "5"] }, { timeoutMs: 150 })).toEqual({ status: "critical", output: "Timed out (150ms) running check" });
  });

  test("timeouts and failures to start go past flap damping, as in Consul", async () => {
    const h = recordingHost();
    const marker = join(dir, "marker");
    const def = checkDef(
      { script: `if [ -f ${marker} ]; then sleep 5; else touch ${marker}; echo ok; fi`, interval: "1s", failures_before_critical: 5 },
      { intervalMs: 50, timeoutMs: 150 },
    );
    const r = createCheckRunner(def, h, OPTS) as CheckRunner;
    r.start();
    expect(await h.next()).toEqual({ status: "passing", output: "ok\n" });
    expect(await h.next()).toEqual({ status: "critical", output: "Timed out (150ms) running check" });
    r.stop();

    const exe = join(dir, "check.sh");
    writeFileSync(exe, "#!/bin/sh\necho up\n");
    chmodSync(exe, 0o755);
    const h2 = recordingHost();
    const r2 = createCheckRunner(checkDef({ args: [exe], interval: "1s", failures_before_critical: 5 }, { intervalMs: 50 }), h2, OPTS) as CheckRunner;
    r2.start();
    expect(await h2.next()).toEqual({ status: "passing", output: "up\n" });
    rmSync(exe);
    expect(await h2.next()).toEqual({ status: "critical", output: `fork/exec ${exe}: no such file or directory` });
    r2.stop();
  });

  test("stop() kills a running script and its children, and nothing is reported after", async () => {
    const pids = join(dir, "stop-pids");
    const h = recordingHost();
    const r = createCheckRunner(checkDef({ script: `sleep 30 & echo $$ $! > ${pids}; sleep 30`, interval: "10s" }), h, OPTS) as CheckRunner;
    r.start();
    await until(() => existsSync(pids) && readFileSync(pids, "utf8").includes("\n"));
    const [shell, child] = readFileSync(pids, "utf8").trim().split(" ").map(Number) as [number, number];
    expect(alive(shell) && alive(child)).toBe(true);
    r.stop();
    await until(() => !alive(shell) && !alive(child));
    await Bun.sleep(100);
    expect(h.results).toEqual([]);
  });
});
