// Go's text for a failed file operation ("open x: no such file or directory" ends in this),
// which Consul's messages carry and users' scripts match.

const reasons: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  ELOOP: "too many levels of symbolic links",
  ENOSPC: "no space left on device",
};

export function fsReason(e: unknown): string {
  const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : "";
  return reasons[code] ?? (e instanceof Error ? e.message : String(e));
}
