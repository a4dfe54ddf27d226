import type { ApiError } from "./api.ts";
import type { Route } from "./route.ts";

/** What a page gets: where it is, where to draw, how to report, and when to stop (signal). */
export interface Ctx {
  dc: string;
  route: Route;
  main: HTMLElement;
  signal: AbortSignal;
  go(path: string): void;
  error(e: ApiError | string): void;
  clearError(): void;
  notice(text: string): void;
}
