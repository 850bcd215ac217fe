import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
      authTokens: [],
      readTokens: [],
      metricsAuth: "open",
      maxEventBytes: 1048576,
      maxRequestBytes: 4194304,
      dbPoolSize: 10,
      dbConnectTimeoutMs: 5000,
      dbStartupTimeoutMs: 60000,
      appendBatchMaxEvents: 2000,
      appendPath: "statement",
      maxEventsPerRequest: 10000,
      maxStreams: 1000,
      defaultDeadlineMs: 30000,
      headersTimeoutMs: 10000,
      requestBodyTimeoutMs: 30000,
      pollFallbackMs: 1000,
      streamBufferBytes: 1048576,
      streamBufferTotalBytes: 134217728,
      streamStallTimeoutMs: 60000,
      logsPollHeartbeatMs: 15000,
      logLevel: "info",
      slowCallMs: 1000,
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
      ESKIT_AUTH_TOKENS: "full-token-0123456789, full-token-abcdefghij",
      ESKIT_READ_TOKENS: "read-token-0123456789",
      ESKIT_METRICS_AUTH: "token",
      ESKIT_MAX_EVENT_BYTES: "1000",
      ESKIT_MAX_REQUEST_BYTES: "1000",
      ESKIT_DB_POOL_SIZE: "1000",
      ESKIT_DB_CONNECT_TIMEOUT_MS: "250",
      ESKIT_DB_STARTUP_TIMEOUT_MS: "0",
      ESKIT_APPEND_BATCH_MAX_EVENTS: "1",
      ESKIT_APPEND_PATH: "drizzle-transaction",
      ESKIT_MAX_EVENTS_PER_REQUEST: "5",
      ESKIT_MAX_STREAMS: "2",
      ESKIT_DEFAULT_DEADLINE_MS: "0",
      ESKIT_HEADERS_TIMEOUT_MS: "2000",
      ESKIT_REQUEST_BODY_TIMEOUT_MS: "3000",
      ESKIT_POLL_FALLBACK_MS: "10",
      ESKIT_STREAM_BUFFER_BYTES: "65536",
      ESKIT_STREAM_BUFFER_TOTAL_BYTES: "1048576",
      ESKIT_STREAM_STALL_TIMEOUT_MS: "100",
      ESKIT_LOGS_POLL_HEARTBEAT_MS: "0",
      LOG_LEVEL: "debug",
      ESKIT_SLOW_CALL_MS: "250",
      ESKIT_SHUTDOWN_TIMEOUT_MS: "0",
    });
    expect(config).toEqual({
      port: 0,
      host: "127.0.0.1",
      databaseUrl: "postgresql://u:p@db:5432/es",
      dataDir: "/var/lib/eskit",
      corsOrigins: ["https://a.example", "http://localhost:5173"],
      authTokens: ["full-token-0123456789", "full-token-abcdefghij"],
      readTokens: ["read-token-0123456789"],
      metricsAuth: "token",
      maxEventBytes: 1000,
      maxRequestBytes: 1000,
      dbPoolSize: 1000,
      dbConnectTimeoutMs: 250,
      dbStartupTimeoutMs: 0,
      appendBatchMaxEvents: 1,
      appendPath: "drizzle-transaction",
      maxEventsPerRequest: 5,
      maxStreams: 2,
      defaultDeadlineMs: 0,
      headersTimeoutMs: 2000,
      requestBodyTimeoutMs: 3000,
      pollFallbackMs: 10,
      streamBufferBytes: 65536,
      streamBufferTotalBytes: 1048576,
      streamStallTimeoutMs: 100,
      logsPollHeartbeatMs: 0,
      logLevel: "debug",
      slowCallMs: 250,
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
    [
      "DATABASE_URL",
      "mysql://x/y",
      'DATABASE_URL must be a URL starting with postgres:// or postgresql://, got "mysql://x/y"',
    ],
    [
      "ESKIT_CORS_ORIGINS",
      ",",
      'ESKIT_CORS_ORIGINS must be a comma-separated list of origins (* or http(s)://host[:port]), got ","',
    ],
    [
      "ESKIT_CORS_ORIGINS",
      "https://a.example/",
      'ESKIT_CORS_ORIGINS must be a comma-separated list of origins (* or http(s)://host[:port]), got "https://a.example/"',
    ],
    ["ESKIT_MAX_EVENT_BYTES", "0", 'ESKIT_MAX_EVENT_BYTES must be an integer >= 1, got "0"'],
    ["ESKIT_MAX_REQUEST_BYTES", "1e6", 'ESKIT_MAX_REQUEST_BYTES must be an integer >= 1, got "1e6"'],
    [
      "ESKIT_MAX_REQUEST_BYTES",
      "99999999999999999999",
      'ESKIT_MAX_REQUEST_BYTES must be an integer >= 1, got "99999999999999999999"',
    ],
    ["ESKIT_DB_POOL_SIZE", "0", 'ESKIT_DB_POOL_SIZE must be an integer 1..1000, got "0"'],
    ["ESKIT_DB_POOL_SIZE", "1001", 'ESKIT_DB_POOL_SIZE must be an integer 1..1000, got "1001"'],
    ["ESKIT_DB_CONNECT_TIMEOUT_MS", "99", 'ESKIT_DB_CONNECT_TIMEOUT_MS must be an integer 100..600000, got "99"'],
    [
      "ESKIT_DB_STARTUP_TIMEOUT_MS",
      "3600001",
      'ESKIT_DB_STARTUP_TIMEOUT_MS must be an integer 0..3600000, got "3600001"',
    ],
    [
      "ESKIT_APPEND_BATCH_MAX_EVENTS",
      "100001",
      'ESKIT_APPEND_BATCH_MAX_EVENTS must be an integer 1..100000, got "100001"',
    ],
    ["ESKIT_POLL_FALLBACK_MS", "9", 'ESKIT_POLL_FALLBACK_MS must be an integer 10..60000, got "9"'],
    ["ESKIT_POLL_FALLBACK_MS", "60001", 'ESKIT_POLL_FALLBACK_MS must be an integer 10..60000, got "60001"'],
    ["ESKIT_STREAM_BUFFER_BYTES", "1000", 'ESKIT_STREAM_BUFFER_BYTES must be an integer 65536..67108864, got "1000"'],
    ["ESKIT_LOGS_POLL_HEARTBEAT_MS", "-1", 'ESKIT_LOGS_POLL_HEARTBEAT_MS must be an integer 0..3600000, got "-1"'],
    ["LOG_LEVEL", "verbose", 'LOG_LEVEL must be one of debug, info, warn, error, got "verbose"'],
    ["ESKIT_SHUTDOWN_TIMEOUT_MS", "soon", 'ESKIT_SHUTDOWN_TIMEOUT_MS must be an integer 0..600000, got "soon"'],
    ["ESKIT_METRICS_AUTH", "basic", 'ESKIT_METRICS_AUTH must be one of open, token, got "basic"'],
    ["ESKIT_MAX_STREAMS", "0", 'ESKIT_MAX_STREAMS must be an integer 1..1000000, got "0"'],
    ["ESKIT_DEFAULT_DEADLINE_MS", "3600001", 'ESKIT_DEFAULT_DEADLINE_MS must be an integer 0..3600000, got "3600001"'],
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

  describe("tokens", () => {
    const short = "short-secret";
    const good = "0123456789abcdef0123";

    it("refuses bad tokens with messages that never repeat them", () => {
      const problems = problemsOf({
        ESKIT_AUTH_TOKENS: `${good},${short}`,
        ESKIT_READ_TOKENS: "has space in the middle!",
      });
      expect(problems).toEqual([
        "ESKIT_AUTH_TOKENS: token 2 of 2 is 12 characters long; a token needs at least 16",
        "ESKIT_READ_TOKENS: token 1 of 1 has a character a bearer token cannot have (allowed: A-Z a-z 0-9 - . _ ~ + /, and = at the end)",
      ]);
      for (const problem of problems) expect(problem).not.toContain(short);
    });

    it("refuses empty tokens in a list", () => {
      expect(problemsOf({ ESKIT_AUTH_TOKENS: `${good},,${good}x` })).toEqual([
        "ESKIT_AUTH_TOKENS has an empty token (two commas in a row, or one at an end)",
      ]);
      expect(problemsOf({ ESKIT_AUTH_TOKENS: `${good},` })).toHaveLength(1);
    });

    it("refuses a token in both lists, and ESKIT_METRICS_AUTH=token without tokens", () => {
      expect(problemsOf({ ESKIT_AUTH_TOKENS: good, ESKIT_READ_TOKENS: good })).toEqual([
        "a token is in both ESKIT_AUTH_TOKENS and ESKIT_READ_TOKENS: give each token one role",
      ]);
      expect(problemsOf({ ESKIT_METRICS_AUTH: "token" })).toEqual([
        "ESKIT_METRICS_AUTH=token needs tokens: set ESKIT_AUTH_TOKENS or ESKIT_READ_TOKENS (or their _FILE)",
      ]);
      expect(loadConfig({ ESKIT_READ_TOKENS: good, ESKIT_METRICS_AUTH: "token" }).readTokens).toEqual([good]);
    });

    it("reads tokens from a file, one a line, skipping blank and comment lines", () => {
      const dir = mkdtempSync(join(tmpdir(), "eskit-tokens-"));
      try {
        const file = join(dir, "tokens");
        writeFileSync(file, `# deploy pipeline\n${good}\n\n  # grafana\n  ${good}-2  \r\n`);
        expect(loadConfig({ ESKIT_AUTH_TOKENS_FILE: file }).authTokens).toEqual([good, `${good}-2`]);
        writeFileSync(file, `${good}\n${short}\n`);
        expect(problemsOf({ ESKIT_READ_TOKENS_FILE: file })).toEqual([
          `ESKIT_READ_TOKENS_FILE (${file}) line 2 is 12 characters long; a token needs at least 16`,
        ]);
        writeFileSync(file, "# nothing yet\n");
        expect(problemsOf({ ESKIT_AUTH_TOKENS_FILE: file })).toEqual([
          `ESKIT_AUTH_TOKENS_FILE (${file}) holds no token`,
        ]);
        expect(problemsOf({ ESKIT_AUTH_TOKENS_FILE: file, ESKIT_AUTH_TOKENS: good })).toEqual([
          "set ESKIT_AUTH_TOKENS or ESKIT_AUTH_TOKENS_FILE, not both",
        ]);
        const missing = join(dir, "missing");
        expect(problemsOf({ ESKIT_AUTH_TOKENS_FILE: missing })[0]).toMatch(
          new RegExp(`^ESKIT_AUTH_TOKENS_FILE names a file that cannot be read \\(".*missing"\\): ENOENT`, "u"),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
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
      ["ESKIT_AUTH_TOKENS", "(unset)"],
      ["ESKIT_AUTH_TOKENS_FILE", "(unset)"],
      ["ESKIT_READ_TOKENS", "(unset)"],
      ["ESKIT_READ_TOKENS_FILE", "(unset)"],
      ["ESKIT_METRICS_AUTH", "open"],
      ["ESKIT_MAX_EVENT_BYTES", "1048576"],
      ["ESKIT_MAX_REQUEST_BYTES", "4194304"],
      ["ESKIT_DB_POOL_SIZE", "10"],
      ["ESKIT_DB_CONNECT_TIMEOUT_MS", "5000"],
      ["ESKIT_DB_STARTUP_TIMEOUT_MS", "60000"],
      ["ESKIT_APPEND_BATCH_MAX_EVENTS", "2000"],
      ["ESKIT_APPEND_PATH", "statement"],
      ["ESKIT_MAX_EVENTS_PER_REQUEST", "10000"],
      ["ESKIT_MAX_STREAMS", "1000"],
      ["ESKIT_DEFAULT_DEADLINE_MS", "30000"],
      ["ESKIT_HEADERS_TIMEOUT_MS", "10000"],
      ["ESKIT_REQUEST_BODY_TIMEOUT_MS", "30000"],
      ["ESKIT_POLL_FALLBACK_MS", "1000"],
      ["ESKIT_STREAM_BUFFER_BYTES", "1048576"],
      ["ESKIT_STREAM_BUFFER_TOTAL_BYTES", "134217728"],
      ["ESKIT_STREAM_STALL_TIMEOUT_MS", "60000"],
      ["ESKIT_LOGS_POLL_HEARTBEAT_MS", "15000"],
      ["LOG_LEVEL", "info"],
      ["ESKIT_SLOW_CALL_MS", "1000"],
      ["ESKIT_SHUTDOWN_TIMEOUT_MS", "8000"],
    ]);
    for (const doc of configDocs) expect(doc.meaning.length).toBeGreaterThan(10);
  });
});
