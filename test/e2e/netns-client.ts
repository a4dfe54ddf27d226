// Runs under Bun inside a test host's network namespace (see netns.ts): reads one JSON
// request a line on stdin, sends it to the namespace's own agent, writes one JSON answer a
// line on stdout. Requests run concurrently; each has its own deadline; none is retried.

export interface Ask {
  id: number;
  method: string;
  path: string;
  body?: string;
  timeoutMs: number;
}

async function answer(req: Ask): Promise<void> {
  let out: { status: number; body: string; headers: Record<string, string> };
  try {
    const r = await fetch(`http://127.0.0.1:8500${req.path}`, {
      method: req.method,
      body: req.body,
      keepalive: false,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    out = { status: r.status, body: await r.text(), headers: Object.fromEntries(r.headers) };
  } catch (err) {
    out = { status: 0, body: (err as Error).message, headers: {} };
  }
  process.stdout.write(`${JSON.stringify({ id: req.id, ...out })}\n`);
}

let buf = "";
const decoder = new TextDecoder();
for await (const chunk of Bun.stdin.stream()) {
  buf += decoder.decode(chunk, { stream: true });
  let nl: number;
  while ((nl = buf.indexOf("\n")) >= 0) {
    void answer(JSON.parse(buf.slice(0, nl)) as Ask);
    buf = buf.slice(nl + 1);
  }
}
