import type { CheckDefinition } from "../../config/definition-types.ts";
import type { HealthStatus } from "../../state/catalog-types.ts";
import type { CheckHost } from "./runner.ts";

// Flap damping, as Consul's StatusHandler does it: a result reaches the host only once
// enough consecutive results agree (success_before_passing for passing/warning,
// failures_before_warning / failures_before_critical for critical). A result that has not
// reached its threshold is dropped whole: the check keeps its previous status AND output.
// The counters start at the thresholds, so the very first result always counts.

export type Thresholds = Pick<CheckDefinition, "id" | "successBeforePassing" | "failuresBeforeWarning" | "failuresBeforeCritical">;

export class StatusHandler {
  private readonly successBefore: number;
  private readonly warnBefore: number;
  private readonly critBefore: number;
  private successes: number;
  private failures: number;

  private readonly checkId: string;

  constructor(
    t: Thresholds,
    private readonly host: CheckHost,
  ) {
    this.checkId = t.id;
    this.successBefore = t.successBeforePassing;
    this.critBefore = t.failuresBeforeCritical;
    // Consul's config builder defaults failures_before_warning to failures_before_critical.
    this.warnBefore = t.failuresBeforeWarning || t.failuresBeforeCritical;
    this.successes = this.successBefore;
    this.failures = this.critBefore;
  }

  update(status: HealthStatus, output: string): void {
    if (status !== "critical") {
      this.successes++;
      this.failures = 0;
      if (this.successes >= this.successBefore) {
        this.host.update(status, output);
        return;
      }
      this.host.logger.warn(
        `Check passed but has not reached success threshold: check=${this.checkId} status=${status} success_count=${this.successes} success_threshold=${this.successBefore}`,
      );
      return;
    }
    this.failures++;
    this.successes = 0;
    if (this.failures >= this.critBefore) {
      this.host.update("critical", output);
    } else if (this.failures >= this.warnBefore) {
      this.host.update("warning", output);
    } else {
      this.host.logger.warn(
        `Check failed but has not reached warning/failure threshold: check=${this.checkId} status=${status} failure_count=${this.failures} warning_threshold=${this.warnBefore} failure_threshold=${this.critBefore}`,
      );
    }
  }
}
