// Scratch directories for config-loading tests, removed after each test.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), "tsc-config-"));

  /** Writes `content` (objects as JSON) at `name` below the temp dir; returns the full path. */
  write(name: string, content: string | object): string {
    const file = join(this.path, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
    return file;
  }

  dir(name: string): string {
    const dir = join(this.path, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
