import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import {
  buildConsole,
  launchChromium,
  openConsole,
  startConsoleSystem,
  type AccessTokens,
  type ConsoleSystem,
} from "./console-harness.js";

/** A suite's console: built, served beside its services, and a browser, all started before its tests. */
export interface ConsoleFixture {
  /** The services and the console; set before the suite's tests (and its own `beforeAll` hooks) run. */
  readonly system: ConsoleSystem;
  readonly browser: Browser;
  /** {@link openConsole} on this suite's system and browser. */
  open(hash?: string): Promise<{ page: Page; errors: string[] }>;
}

/**
 * Builds the console and starts its system (with `tokens`, access control on) and Chromium before the suite's tests,
 * and stops them after. Call it first in the suite: its hooks then run before the suite's own `beforeAll` and after
 * its own `afterAll`.
 */
export function useConsole(tokens?: AccessTokens): ConsoleFixture {
  let built: Awaited<ReturnType<typeof buildConsole>> | undefined;
  let system: ConsoleSystem | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    built = await buildConsole();
    [system, browser] = await Promise.all([startConsoleSystem(built.dir, tokens), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    await built?.remove();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the console's system is not started (use it inside a test or a hook)");
    return value;
  };
  return {
    get system() {
      return started(system);
    },
    get browser() {
      return started(browser);
    },
    open: (hash) => openConsole(started(browser), started(system), hash),
  };
}
