import { describe, expect, expectTypeOf, it } from "vitest";
import { type ConfigOf, type EnvSpec, ConfigError, loadEnv, logLevelSpec } from "./env-config.js";

// One schema per service: the spec table gives both the parsed values and, through ConfigOf, their type.
const specs = {
  port: { env: "PORT", kind: "int", min: 0, max: 65535, default: 8080, meaning: "port" },
  level: logLevelSpec,
  url: { env: "DATABASE_URL", kind: "postgresUrl", default: undefined, meaning: "db" },
  origins: { env: "ORIGINS", kind: "origins", default: ["*"], meaning: "cors" },
  name: { env: "NAME", kind: "string", default: "x", meaning: "name" },
} as const satisfies Record<string, EnvSpec>;

describe("loadEnv", () => {
  it("types each value by its spec's kind: the configuration type cannot drift from the table", () => {
    expectTypeOf<ConfigOf<typeof specs>>().toEqualTypeOf<{
      port: number;
      level: "debug" | "info" | "warn" | "error";
      url: string | undefined;
      origins: string[];
      name: string;
    }>();
  });

  it("parses values and falls back to the defaults", () => {
    const config = loadEnv(specs, { PORT: "81", LOG_LEVEL: "warn", ORIGINS: "http://a.example, http://b.example" });
    expect(config).toEqual({
      port: 81,
      level: "warn",
      url: undefined,
      origins: ["http://a.example", "http://b.example"],
      name: "x",
    });
  });

  it("names every bad variable at once", () => {
    expect(() => loadEnv(specs, { PORT: "70000", LOG_LEVEL: "loud", DATABASE_URL: "mysql://x" })).toThrow(
      new ConfigError([
        'PORT must be an integer 0..65535, got "70000"',
        'LOG_LEVEL must be one of debug, info, warn, error, got "loud"',
        'DATABASE_URL must be a URL starting with postgres:// or postgresql://, got "mysql://x"',
      ]),
    );
  });
});
