import type { Route } from "./route.ts";

/** What a page gets: where it is, where to draw, how to report, and when to stop (signal). */
export interface Ctx {
  dc: string;
  route: Route;
  main: HTMLElement;
  signal: AbortSignal;
  go(path: string): void;
  /** Shows an API error's one-line text, or a message of the page's own. */
  error(e: unknown): void;
  clearError(): void;
  notice(text: string): void;
}
