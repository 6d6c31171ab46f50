/**
 * Debian's chromium through playwright-core. Without it, browser tests skip
 * with a visible line, unless REQUIRE_SERVICES=1 (CI), where they fail.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function chromiumAvailable(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.REQUIRE_SERVICES === "1") throw new Error(`REQUIRE_SERVICES=1 but no browser at ${CHROMIUM} (apt-get install -y chromium)`);
  console.error(`SKIP: no browser at ${CHROMIUM}; ${what} skipped (apt-get install -y chromium)`);
  return false;
}

/** Headless, and without the background networking a closed machine refuses. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
