import type { HealthStatus } from "../../state/catalog-types.ts";
import type { CheckHost, TtlCheckRunner } from "./runner.ts";

// A TTL check: its state comes from outside (pass/warn/fail/update); if nothing arrives for
// one TTL it turns critical, keeping the last output in the message, as Consul's does. One
// timer per check and nothing else, so thousands of them cost next to nothing.

export class TtlRunner implements TtlCheckRunner {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastOutput = "";
  private stopped = false;

  constructor(
    private readonly ttlMs: number,
    private readonly host: CheckHost,
  ) {}

  start(): void {
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  set(status: HealthStatus, output: string): void {
    if (this.stopped) return;
    this.lastOutput = output;
    this.host.update(status, output);
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.expire(), this.ttlMs);
    this.timer.unref?.();
  }

  private expire(): void {
    if (this.stopped) return;
    this.host.logger.warn("Check missed TTL, is now critical");
    const output = this.lastOutput === "" ? "TTL expired" : `TTL expired (last output before timeout follows): ${this.lastOutput}`;
    this.host.update("critical", output);
  }
}
