import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { CheckDefinition, ServiceDefinition } from "../config/definition-types.ts";
import { writeFileAtomic } from "../lib/atomic-file.ts";
import type { HealthStatus } from "../state/catalog-types.ts";

// Services and checks registered through the API outlive a restart, as in Consul: one file
// per service or check in the data dir (named by a hash of its ID, so any ID is a safe file
// name), plus the last TTL result of each TTL check so a restart does not reset it early.
// Files are written atomically; one that cannot be read is reported and skipped.

/** A check that runs nothing: maintenance mode is one, critical while it exists. */
export interface StaticCheck {
  id: string;
  name: string;
  notes: string;
  serviceId: string;
  type: string;
}

export type PersistedCheck = { check: CheckDefinition } | { static: StaticCheck };

export interface TtlState {
  status: HealthStatus;
  output: string;
  expiresAtMs: number;
}

const VERSION = 1;
const fileName = (id: string): string => createHash("sha256").update(id).digest("hex");

export class Persistence {
  private readonly servicesDir: string;
  private readonly checksDir: string;
  private readonly stateDir: string;

  constructor(dataDir: string) {
    this.servicesDir = join(dataDir, "services");
    this.checksDir = join(dataDir, "checks");
    this.stateDir = join(dataDir, "checks", "state");
    for (const d of [this.servicesDir, this.checksDir, this.stateDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
  }

  saveService(def: ServiceDefinition): void {
    writeFileAtomic(join(this.servicesDir, fileName(def.id)), JSON.stringify({ version: VERSION, service: def }));
  }

  removeService(id: string): void {
    rmSync(join(this.servicesDir, fileName(id)), { force: true });
  }

  saveCheck(id: string, check: PersistedCheck): void {
    writeFileAtomic(join(this.checksDir, fileName(id)), JSON.stringify({ version: VERSION, ...check }));
  }

  removeCheck(id: string): void {
    rmSync(join(this.checksDir, fileName(id)), { force: true });
    rmSync(join(this.stateDir, fileName(id)), { force: true });
  }

  saveTtlState(id: string, state: TtlState): void {
    writeFileAtomic(join(this.stateDir, fileName(id)), JSON.stringify({ version: VERSION, ...state }));
  }

  loadTtlState(id: string): TtlState | undefined {
    const body = readJson(join(this.stateDir, fileName(id)));
    return body as TtlState | undefined;
  }

  loadServices(onError: (msg: string) => void): ServiceDefinition[] {
    return this.loadAll(this.servicesDir, onError).flatMap((b) => (b.service ? [b.service as ServiceDefinition] : []));
  }

  loadChecks(onError: (msg: string) => void): PersistedCheck[] {
    return this.loadAll(this.checksDir, onError).flatMap((b): PersistedCheck[] => {
      if (b.check) return [{ check: b.check as CheckDefinition }];
      if (b.static) return [{ static: b.static as StaticCheck }];
      return [];
    });
  }

  private loadAll(dir: string, onError: (msg: string) => void): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      if (!name.isFile() || name.name.endsWith(".tmp")) continue;
      const file = join(dir, name.name);
      try {
        const body = readJson(file);
        if (body?.version !== VERSION) throw new Error(`unknown format version ${String(body?.version)}`);
        out.push(body);
      } catch (err) {
        onError(`failed to load ${file}: ${(err as Error).message}`);
      }
    }
    return out;
  }
}

function readJson(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  return JSON.parse(text) as Record<string, unknown>;
}
