import type { HealthStatus } from "../../state/catalog-types.ts";
import type { CheckHost, TtlCheckRunner } from "./runner.ts";

// A TTL check, as Consul's CheckTTL: its results come from outside (pass/warn/fail/update)
// and go straight to the host, undamped; if none arrives for one TTL it turns critical,
// quoting the last output. One timer per check, re-armed in place, so thousands of them cost
// next to nothing. Capping the output is the caller's job (the agent does it before set()).

export class TtlRunner implements TtlCheckRunner {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastOutput = "";
  private running = false;
  private stopped = false;

  constructor(
    private readonly checkId: string,
    private readonly ttlMs: number,
    private readonly host: CheckHost,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  set(status: HealthStatus, output: string): void {
    if (this.stopped) return;
    this.host.logger.debug(`Check status updated: check=${this.checkId} status=${status}`);
    this.host.update(status, output);
    this.lastOutput = output;
    if (this.running) this.arm();
  }

  private arm(): void {
    if (!(this.ttlMs > 0)) return;
    if (this.timer) {
      this.timer.refresh(); // restarts it, even after it fired
      return;
    }
    this.timer = setTimeout(this.expire, this.ttlMs);
    this.timer.unref();
  }

  private readonly expire = (): void => {
    if (!this.running) return;
    this.host.logger.warn(`Check missed TTL, is now critical: check=${this.checkId}`);
    const output = this.lastOutput === "" ? "TTL expired" : `TTL expired (last output before timeout follows): ${this.lastOutput}`;
    this.host.update("critical", output);
  };
}
