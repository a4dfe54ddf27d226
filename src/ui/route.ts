// The UI's URL layout, as Consul's: /ui/<dc>/services[/<name>], /ui/<dc>/nodes[/<node>],
// /ui/<dc>/kv/[<folder>/], /ui/<dc>/kv/<key>/edit, /ui/<dc>/kv/[<folder>/]create. Names and
// key segments are percent-encoded one by one, so user data never changes the path's shape.
// Pure: no DOM, so unit tests import it directly.

export type Route =
  | { page: "root" }
  | { page: "services"; dc: string }
  | { page: "service"; dc: string; name: string }
  | { page: "nodes"; dc: string }
  | { page: "node"; dc: string; name: string }
  | { page: "kv"; dc: string; prefix: string }
  | { page: "kv-edit"; dc: string; key: string }
  | { page: "kv-create"; dc: string; prefix: string }
  | { page: "not-found"; dc: string };

const enc = encodeURIComponent;
const encKey = (key: string): string => key.split("/").map(enc).join("/");

function dec(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function parseRoute(pathname: string): Route {
  const rest = pathname.replace(/^\/ui\/?/, "");
  if (rest === "") return { page: "root" };
  const parts = rest.split("/");
  const dc = dec(parts[0]!);
  const section = parts[1] ?? "";
  const tail = parts.slice(2);
  if (section === "" || (section === "services" && tail.join("") === "")) return { page: "services", dc };
  if (section === "services") return { page: "service", dc, name: dec(tail[0]!) };
  if (section === "nodes" && tail.join("") === "") return { page: "nodes", dc };
  if (section === "nodes") return { page: "node", dc, name: dec(tail[0]!) };
  if (section === "kv") return kvRoute(dc, tail.map(dec));
  return { page: "not-found", dc };
}

function kvRoute(dc: string, segs: string[]): Route {
  const last = segs[segs.length - 1];
  if (segs.length >= 2 && last === "edit") return { page: "kv-edit", dc, key: segs.slice(0, -1).join("/") };
  if (last === "create") return { page: "kv-create", dc, prefix: folderOf(segs.slice(0, -1)) };
  return { page: "kv", dc, prefix: folderOf(segs) };
}

/** Segments of a folder path ("a", "b", "") as its prefix "a/b/"; the root is "". */
function folderOf(segs: string[]): string {
  const names = segs[segs.length - 1] === "" ? segs.slice(0, -1) : segs;
  return names.length === 0 ? "" : `${names.join("/")}/`;
}

export function href(r: Route): string {
  switch (r.page) {
    case "root":
      return "/ui/";
    case "services":
      return `/ui/${enc(r.dc)}/services`;
    case "service":
      return `/ui/${enc(r.dc)}/services/${enc(r.name)}`;
    case "nodes":
      return `/ui/${enc(r.dc)}/nodes`;
    case "node":
      return `/ui/${enc(r.dc)}/nodes/${enc(r.name)}`;
    case "kv":
      return `/ui/${enc(r.dc)}/kv/${encKey(r.prefix)}`;
    case "kv-edit":
      return `/ui/${enc(r.dc)}/kv/${encKey(r.key)}/edit`;
    case "kv-create":
      return `/ui/${enc(r.dc)}/kv/${encKey(r.prefix)}create`;
    case "not-found":
      return `/ui/${enc(r.dc)}/services`;
  }
}

/** The API path of a key, each segment percent-encoded. */
export function kvPath(key: string): string {
  return `/v1/kv/${encKey(key)}`;
}

/** The folder a key or folder sits in: "a/b/c" and "a/b/c/" are in "a/b/". */
export function parentOf(key: string): string {
  const trimmed = key.endsWith("/") ? key.slice(0, -1) : key;
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? "" : trimmed.slice(0, i + 1);
}

/**
 * Why a key cannot be sent in a URL as it is, or "" when it can: a browser resolves "." and
 * ".." segments (also escaped ones) before sending, and the agent collapses "//", so the
 * request would name another key. Refused before any request, so nothing changes.
 */
export function unaddressableKey(key: string): string {
  if (key.startsWith("/")) return "Key must not begin with a '/'";
  const segs = (key.endsWith("/") ? key.slice(0, -1) : key).split("/");
  if (segs.some((s) => s === "." || s === "..")) return "Key must not contain '.' or '..' path segments";
  if (segs.slice(0, -1).some((s) => s === "") || key.includes("//")) return "Key must not contain empty path segments ('//')";
  return "";
}
