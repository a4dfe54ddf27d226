/** A broken invariant: crash rather than diverge. */
export function assert(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}
