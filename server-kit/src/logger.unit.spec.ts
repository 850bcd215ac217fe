import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, silentLogger } from "./logger.js";
import type { LogLevel } from "./env-config.js";

/** A logger writing into an array of parsed lines. */
function capture(level: LogLevel, base?: Record<string, unknown>) {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(chunk.toString("utf8"));
      done();
    },
  });
  const logger = createLogger({ level, destination, ...(base ? { base } : {}) });
  const lines = () => raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, raw, lines };
}

describe("createLogger", () => {
  it("writes one JSON line per call with time, level, msg and fields", () => {
    const { logger, raw, lines } = capture("debug");
    logger.info("started", { port: 8081 });
    expect(raw).toHaveLength(1);
    expect(raw[0]?.endsWith("}\n")).toBe(true);
    const [line] = lines();
    expect(Object.keys(line ?? {}).sort()).toEqual(["level", "msg", "port", "time"]);
    expect(line).toMatchObject({ level: "info", msg: "started", port: 8081 });
    expect(new Date(String(line?.time)).toISOString()).toBe(line?.time);
  });

  it("drops lines below its level", () => {
    const { logger, lines } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(lines().map((l) => [l.level, l.msg])).toEqual([
      ["warn", "w"],
      ["error", "e"],
    ]);
  });

  it("serializes bigint as decimal strings, also when nested", () => {
    const { logger, lines } = capture("info");
    logger.info("appended", { position: 18446744073709551615n, range: { from: 1n, to: [2n] } });
    expect(lines()[0]).toMatchObject({ position: "18446744073709551615", range: { from: "1", to: ["2"] } });
  });

  it("serializes errors with name, message and cause", () => {
    const { logger, lines } = capture("info");
    logger.error("failed", { err: new TypeError("bad", { cause: new Error("root") }) });
    const err = lines()[0]?.err as Record<string, unknown>;
    expect(err.name).toBe("TypeError");
    expect(err.message).toBe("bad");
    expect(String(err.stack)).toContain("TypeError: bad");
    expect((err.cause as Record<string, unknown>).message).toBe("root");
  });

  it("adds base and child fields, and fields cannot overwrite time, level or msg", () => {
    const { logger, lines } = capture("info", { service: "event-store" });
    logger.child({ component: "http" }).child({ conn: 7 }).info("hello", { msg: "spoof", level: "error", conn: 8 });
    const [line] = lines();
    expect(line).toMatchObject({ service: "event-store", component: "http", conn: 8, msg: "hello", level: "info" });
  });

  it("survives circular fields", () => {
    const { logger, lines } = capture("info");
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    logger.info("odd", { loop });
    const [line] = lines();
    expect(line?.msg).toBe("odd");
    expect(String(line?.log_error)).toContain("circular");
  });
});

describe("redaction and levels", () => {
  it("never writes a credential, wherever it is nested", () => {
    const { logger, raw } = capture("debug");
    logger.info("call", { authorization: "Bearer s3cret-1", headers: { authorization: "Bearer s3cret-2" } });
    logger.child({ request: { token: "s3cret-3" } }).warn("refused", { upstream: { password: "s3cret-4" } });
    expect(raw).toHaveLength(2);
    expect(raw.join("")).not.toMatch(/s3cret/u);
    expect(raw.join("")).toContain("[redacted]");
  });

  it("says which levels it writes", () => {
    const { logger } = capture("info");
    expect([logger.enabled("debug"), logger.enabled("info"), logger.enabled("error")]).toEqual([false, true, true]);
  });
});

describe("silentLogger", () => {
  it("accepts every call, and its children too", () => {
    expect(() => silentLogger.child({ a: 1 }).error("x", { y: 2n })).not.toThrow();
    expect(silentLogger.child({})).toBe(silentLogger);
  });
});
