import { ConfigError } from "@eskit/server-kit/env-config.js";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("has the documented defaults", () => {
    expect(loadConfig({})).toEqual({
      port: 8083,
      host: "0.0.0.0",
      eventStoreUrl: "http://127.0.0.1:8081",
      crudStoreUrl: "http://127.0.0.1:8082",
      consumerId: "metrics-consumer",
      maxLabelValues: 1000,
      lagIntervalMs: 5000,
      corsOrigins: ["*"],
      logLevel: "info",
      shutdownTimeoutMs: 8000,
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      PORT: "9000",
      EVENT_STORE_URL: "http://es:8081/",
      CRUD_STORE_URL: "https://crud.example:443",
      CONSUMER_ID: "metrics-2",
      ESKIT_METRICS_MAX_LABEL_VALUES: "50",
      ESKIT_LAG_INTERVAL_MS: "250",
    });
    expect(config).toMatchObject({
      port: 9000,
      eventStoreUrl: "http://es:8081",
      crudStoreUrl: "https://crud.example:443",
      consumerId: "metrics-2",
      maxLabelValues: 50,
      lagIntervalMs: 250,
    });
  });

  it("names every invalid variable at once", () => {
    let error: unknown;
    try {
      loadConfig({ ESKIT_METRICS_MAX_LABEL_VALUES: "0", ESKIT_LAG_INTERVAL_MS: "10", CRUD_STORE_URL: "crud:8082" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'CRUD_STORE_URL must be a base URL such as http://host:port (no path), got "crud:8082"',
      'ESKIT_METRICS_MAX_LABEL_VALUES must be an integer 1..1000000, got "0"',
      'ESKIT_LAG_INTERVAL_MS must be an integer 100..600000, got "10"',
    ]);
  });

  it("refuses a consumer id longer than the Event Store accepts", () => {
    expect(() => loadConfig({ CONSUMER_ID: "c".repeat(256) })).toThrow(/CONSUMER_ID must be 1 to 255 characters/u);
  });
});
