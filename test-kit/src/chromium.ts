import { chromium, type Browser } from "playwright-core";
import { chromiumPath } from "./system-tools.js";

/**
 * Flags known to work on these machines (closed network): no sandbox as root, no GPU, no background traffic.
 * Playwright adds --headless and a fresh temporary --user-data-dir itself (it refuses --user-data-dir in args).
 */
export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
] as const;

/** Debian's Chromium, headless, driven by playwright-core: what every browser test launches. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: [...chromiumArgs], timeout: 15_000 });
}
