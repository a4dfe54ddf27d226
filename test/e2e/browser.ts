import { type BrowserContext, chromium, type Page } from "playwright-core";
import { tempDir, withTimeout } from "./harness.ts";

// Headless Debian Chromium driven by playwright-core, for the web UI tests. The flags keep
// Chromium off the network (this machine refuses outside connections, and Chromium's
// background fetches would only fail), and a fresh profile dir keeps runs independent.

export const CHROMIUM = "/usr/bin/chromium";

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Errors thrown by page scripts, for asserting that none happened. */
  pageErrors: string[];
  close: () => Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const context = await chromium.launchPersistentContext(tempDir("tsc-chromium-"), {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  return { context, page, pageErrors, close: () => withTimeout(context.close(), 15_000, "Chromium did not close") };
}
