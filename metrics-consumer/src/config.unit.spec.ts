import { ConfigError } from "@eskit/server-kit/env-config.js";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("has the documented defaults", () => {
    expect(loadConfig({})).toEqual({
      port: 8083,
      host: "0.0.0.0",
      eventStoreUrl: "http://127.0.0.1:8081",
      eventStoreToken: undefined,
      crudStoreUrl: "http://127.0.0.1:8082",
      crudStoreToken: undefined,
      consumerId: "metrics-consumer",
      maxLabelValues: 1000,
      lagIntervalMs: 5000,
      corsOrigins: ["*"],
      authTokens: [],
      readTokens: [],
      metricsAuth: "open",
      maxStreams: 1000,
      defaultDeadlineMs: 30000,
      headersTimeoutMs: 10000,
      requestBodyTimeoutMs: 30000,
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

  it("sends the Event Store's token to the Crud Store too unless CRUD_STORE_TOKEN is set", () => {
    const es = "event-store-token-0123";
    const crud = "crud-store-token-0123";
    expect(loadConfig({ EVENT_STORE_TOKEN: es })).toMatchObject({ eventStoreToken: es, crudStoreToken: es });
    expect(loadConfig({ EVENT_STORE_TOKEN: es, CRUD_STORE_TOKEN: crud })).toMatchObject({
      eventStoreToken: es,
      crudStoreToken: crud,
    });
    expect(loadConfig({ CRUD_STORE_TOKEN: crud })).toMatchObject({ eventStoreToken: undefined, crudStoreToken: crud });
  });

  it("refuses a peer token that is not one valid token, without repeating it", () => {
    let error: unknown;
    try {
      loadConfig({ EVENT_STORE_TOKEN: "tiny-secret", CRUD_STORE_TOKEN: "crud-store-token-0123,crud-store-token-4567" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "EVENT_STORE_TOKEN: token 1 of 1 is 11 characters long; a token needs at least 16",
      "CRUD_STORE_TOKEN must hold exactly one token, got 2",
    ]);
    expect((error as ConfigError).message).not.toContain("tiny-secret");
  });

  it("refuses a consumer id longer than the Event Store accepts", () => {
    expect(() => loadConfig({ CONSUMER_ID: "c".repeat(256) })).toThrow(/CONSUMER_ID must be 1 to 255 characters/u);
  });
});
