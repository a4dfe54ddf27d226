// The raw (still percent-encoded) path of a request URL, split without a URL parse: it runs
// on every request, and keys must be decoded exactly once, by the KV handler.

export interface UrlParts {
  origin: string; // scheme://host:port
  path: string; // raw path
  search: string; // "?..." or ""
}

export function splitUrl(url: string): UrlParts {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const q = url.indexOf("?", pathStart);
  return {
    origin: url.slice(0, pathStart),
    path: url.slice(pathStart, q < 0 ? undefined : q),
    search: q < 0 ? "" : url.slice(q),
  };
}
