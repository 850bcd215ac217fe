import { describe, expect, it } from "vitest";
import { ConfigError, configDocs, loadConfig } from "./config.js";

/** The problems loadConfig reports for `env`, or [] when it accepts it. */
function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe("loadConfig", () => {
  it("uses the documented defaults for an empty environment", () => {
    expect(loadConfig({})).toEqual({
      port: 8081,
      host: "0.0.0.0",
      databaseUrl: undefined,
      dataDir: "./data",
      corsOrigins: ["*"],
      maxEventBytes: 1048576,
      maxRequestBytes: 4194304,
      dbPoolSize: 10,
      appendBatchMaxEvents: 2000,
      maxEventsPerRequest: 10000,
      pollFallbackMs: 1000,
      logLevel: "info",
      shutdownTimeoutMs: 8000,
    });
  });

  it("treats empty values as unset", () => {
    expect(loadConfig({ PORT: "", DATABASE_URL: " " }).port).toBe(8081);
    expect(loadConfig({ DATABASE_URL: "" }).databaseUrl).toBeUndefined();
  });

  it("parses every variable", () => {
    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: "postgresql://u:p@db:5432/es",
      ESKIT_DATA_DIR: "/var/lib/eskit",
      ESKIT_CORS_ORIGINS: "https://a.example, http://localhost:5173",
      ESKIT_MAX_EVENT_BYTES: "1000",
      ESKIT_MAX_REQUEST_BYTES: "1000",
      ESKIT_DB_POOL_SIZE: "1000",
      ESKIT_APPEND_BATCH_MAX_EVENTS: "1",
      ESKIT_MAX_EVENTS_PER_REQUEST: "5",
      ESKIT_POLL_FALLBACK_MS: "10",
      LOG_LEVEL: "debug",
      ESKIT_SHUTDOWN_TIMEOUT_MS: "0",
    });
    expect(config).toEqual({
      port: 0,
      host: "127.0.0.1",
      databaseUrl: "postgresql://u:p@db:5432/es",
      dataDir: "/var/lib/eskit",
      corsOrigins: ["https://a.example", "http://localhost:5173"],
      maxEventBytes: 1000,
      maxRequestBytes: 1000,
      dbPoolSize: 1000,
      appendBatchMaxEvents: 1,
      maxEventsPerRequest: 5,
      pollFallbackMs: 10,
      logLevel: "debug",
      shutdownTimeoutMs: 0,
    });
    expect(loadConfig({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test" }).databaseUrl).toBe(
      "postgres://postgres@127.0.0.1:5432/test",
    );
  });

  it.each([
    ["PORT", "abc", 'PORT must be an integer 0..65535, got "abc"'],
    ["PORT", "65536", 'PORT must be an integer 0..65535, got "65536"'],
    ["PORT", "-1", 'PORT must be an integer 0..65535, got "-1"'],
    ["PORT", "80.5", 'PORT must be an integer 0..65535, got "80.5"'],
    ["DATABASE_URL", "mysql://x/y", 'DATABASE_URL must be a URL starting with postgres:// or postgresql://, got "mysql://x/y"'],
    ["ESKIT_CORS_ORIGINS", ",", 'ESKIT_CORS_ORIGINS must be a comma-separated list of origins (* or http(s)://host[:port]), got ","'],
    ["ESKIT_CORS_ORIGINS", "https://a.example/", 'ESKIT_CORS_ORIGINS must be a comma-separated list of origins (* or http(s)://host[:port]), got "https://a.example/"'],
    ["ESKIT_MAX_EVENT_BYTES", "0", 'ESKIT_MAX_EVENT_BYTES must be an integer >= 1, got "0"'],
    ["ESKIT_MAX_REQUEST_BYTES", "1e6", 'ESKIT_MAX_REQUEST_BYTES must be an integer >= 1, got "1e6"'],
    ["ESKIT_MAX_REQUEST_BYTES", "99999999999999999999", 'ESKIT_MAX_REQUEST_BYTES must be an integer >= 1, got "99999999999999999999"'],
    ["ESKIT_DB_POOL_SIZE", "0", 'ESKIT_DB_POOL_SIZE must be an integer 1..1000, got "0"'],
    ["ESKIT_DB_POOL_SIZE", "1001", 'ESKIT_DB_POOL_SIZE must be an integer 1..1000, got "1001"'],
    ["ESKIT_APPEND_BATCH_MAX_EVENTS", "100001", 'ESKIT_APPEND_BATCH_MAX_EVENTS must be an integer 1..100000, got "100001"'],
    ["ESKIT_POLL_FALLBACK_MS", "9", 'ESKIT_POLL_FALLBACK_MS must be an integer 10..60000, got "9"'],
    ["ESKIT_POLL_FALLBACK_MS", "60001", 'ESKIT_POLL_FALLBACK_MS must be an integer 10..60000, got "60001"'],
    ["LOG_LEVEL", "verbose", 'LOG_LEVEL must be one of debug, info, warn, error, got "verbose"'],
    ["ESKIT_SHUTDOWN_TIMEOUT_MS", "soon", 'ESKIT_SHUTDOWN_TIMEOUT_MS must be an integer 0..600000, got "soon"'],
  ])("rejects %s=%j", (name, value, message) => {
    expect(problemsOf({ [name]: value })).toEqual([message]);
  });

  it("rejects an event limit above the request limit", () => {
    expect(problemsOf({ ESKIT_MAX_EVENT_BYTES: "2000", ESKIT_MAX_REQUEST_BYTES: "1000" })).toEqual([
      'ESKIT_MAX_EVENT_BYTES must be <= ESKIT_MAX_REQUEST_BYTES (1000), got "2000"',
    ]);
    expect(problemsOf({ ESKIT_MAX_EVENT_BYTES: "8388608" })).toEqual([
      'ESKIT_MAX_EVENT_BYTES must be <= ESKIT_MAX_REQUEST_BYTES (4194304), got "8388608"',
    ]);
  });

  it("lists every bad variable in one error message", () => {
    const env = { PORT: "abc", LOG_LEVEL: "loud", ESKIT_DB_POOL_SIZE: "0", HOST: "::" };
    expect(() => loadConfig(env)).toThrow(
      new ConfigError([
        'PORT must be an integer 0..65535, got "abc"',
        'ESKIT_DB_POOL_SIZE must be an integer 1..1000, got "0"',
        'LOG_LEVEL must be one of debug, info, warn, error, got "loud"',
      ]),
    );
    const err = (() => {
      try {
        loadConfig(env);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("expected a ConfigError");
    })();
    expect(err.name).toBe("ConfigError");
    expect(err.message).toBe(
      "invalid configuration:\n" +
        '  PORT must be an integer 0..65535, got "abc"\n' +
        '  ESKIT_DB_POOL_SIZE must be an integer 1..1000, got "0"\n' +
        '  LOG_LEVEL must be one of debug, info, warn, error, got "loud"',
    );
  });
});

describe("configDocs", () => {
  it("documents every variable with its default", () => {
    expect(configDocs.map((d) => [d.name, d.default])).toEqual([
      ["PORT", "8081"],
      ["HOST", "0.0.0.0"],
      ["DATABASE_URL", "(unset)"],
      ["ESKIT_DATA_DIR", "./data"],
      ["ESKIT_CORS_ORIGINS", "*"],
      ["ESKIT_MAX_EVENT_BYTES", "1048576"],
      ["ESKIT_MAX_REQUEST_BYTES", "4194304"],
      ["ESKIT_DB_POOL_SIZE", "10"],
      ["ESKIT_APPEND_BATCH_MAX_EVENTS", "2000"],
      ["ESKIT_MAX_EVENTS_PER_REQUEST", "10000"],
      ["ESKIT_POLL_FALLBACK_MS", "1000"],
      ["LOG_LEVEL", "info"],
      ["ESKIT_SHUTDOWN_TIMEOUT_MS", "8000"],
    ]);
    for (const doc of configDocs) expect(doc.meaning.length).toBeGreaterThan(10);
  });
});
