import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@eskit/server-kit/env-config.js";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
}

describe("loadConfig", () => {
  it("has no tokens and the default limits by default", () => {
    expect(loadConfig({})).toMatchObject({
      eventStoreToken: undefined,
      authTokens: [],
      readTokens: [],
      metricsAuth: "open",
      maxStreams: 1000,
      defaultDeadlineMs: 30000,
    });
  });

  it("reads EVENT_STORE_TOKEN from the variable or from a file with comment lines", () => {
    const token = "event-store-token-0123456789";
    expect(loadConfig({ EVENT_STORE_TOKEN: ` ${token} ` }).eventStoreToken).toBe(token);
    const dir = mkdtempSync(join(tmpdir(), "eskit-crud-config-"));
    try {
      const file = join(dir, "token");
      writeFileSync(file, `# issued for the crud store\n${token}\n`);
      expect(loadConfig({ EVENT_STORE_TOKEN_FILE: file }).eventStoreToken).toBe(token);
      writeFileSync(file, `${token}\n${token}-2\n`);
      expect(problemsOf({ EVENT_STORE_TOKEN_FILE: file })).toEqual([
        "EVENT_STORE_TOKEN_FILE must hold exactly one token, got 2",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("checks its own tokens as the Event Store does", () => {
    expect(problemsOf({ ESKIT_AUTH_TOKENS: "too-short", ESKIT_DEFAULT_DEADLINE_MS: "-1" })).toEqual([
      "ESKIT_AUTH_TOKENS: token 1 of 1 is 9 characters long; a token needs at least 16",
      'ESKIT_DEFAULT_DEADLINE_MS must be an integer 0..3600000, got "-1"',
    ]);
  });
});
