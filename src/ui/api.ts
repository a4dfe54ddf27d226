// The agent's HTTP API, same origin only. Errors carry the agent's one-line text, which
// the pages show as it is.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Reply<T> {
  status: number;
  body: T | undefined; // undefined for a 404
  text: string;
  index: string;
}

async function request(method: string, path: string, init: { body?: string; signal?: AbortSignal } = {}): Promise<Response> {
  let r: Response;
  try {
    r = await fetch(path, { method, body: init.body, signal: init.signal, headers: { Accept: "application/json" } });
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new ApiError(0, `The agent did not answer: ${(err as Error).message}`);
  }
  return r;
}

async function failure(r: Response): Promise<ApiError> {
  const text = (await r.text()).trim();
  return new ApiError(r.status, text === "" ? `${r.status} ${r.statusText}` : text);
}

/** GET a JSON read; a 404 is an answer (no body), anything else not 2xx an ApiError. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<Reply<T>> {
  const r = await request("GET", path, { signal });
  const index = r.headers.get("X-Consul-Index") ?? "";
  if (r.status === 404) {
    await r.body?.cancel();
    return { status: 404, body: undefined, text: "", index };
  }
  if (!r.ok) throw await failure(r);
  const text = await r.text();
  return { status: r.status, body: JSON.parse(text) as T, text, index };
}

/** PUT or DELETE; answers the agent's body (e.g. "true"/"false"). */
export async function send(method: "PUT" | "DELETE", path: string, body?: string): Promise<string> {
  const r = await request(method, path, { body });
  if (!r.ok) throw await failure(r);
  return (await r.text()).trim();
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Follows a read with blocking queries until `signal` aborts: `onData` runs with the first
 * answer and each one whose index moved. Failures are reported and retried with back-off.
 * A short pause between rounds keeps a misbehaving endpoint from being hammered.
 */
export async function watch<T>(path: string, signal: AbortSignal, onData: (r: Reply<T>) => void, onError: (e: ApiError) => void): Promise<void> {
  let index = "";
  let failures = 0;
  const sep = path.includes("?") ? "&" : "?";
  while (!signal.aborted) {
    try {
      const r = await getJson<T>(index === "" ? path : `${path}${sep}index=${index}&wait=60s`, signal);
      failures = 0;
      if (r.index !== index || index === "") onData(r);
      // An index that went backwards (a restore, a new leader) means start over, as Consul says.
      index = r.index !== "" && (index === "" || BigInt(r.index) >= BigInt(index)) ? r.index : "";
      await sleep(100, signal);
    } catch (err) {
      if (signal.aborted) return;
      onError(err instanceof ApiError ? err : new ApiError(0, (err as Error).message));
      failures++;
      index = "";
      await sleep(Math.min(500 * 2 ** failures, 10_000), signal);
    }
  }
}
