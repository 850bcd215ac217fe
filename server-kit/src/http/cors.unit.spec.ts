import { describe, expect, it } from "vitest";
import { corsHandler } from "./cors.js";
import type { NodeRequest, NodeResponse } from "./node-types.js";

/** Minimal request/response doubles: cors only reads method and headers, and writes headers. */
function call(origins: string[], method: string, headers: Record<string, string>) {
  const written: Record<string, string> = {};
  let status: number | undefined;
  let ended = false;
  const res = {
    setHeader: (name: string, value: string) => (written[name.toLowerCase()] = value),
    writeHead: (code: number) => (status = code),
    end: () => (ended = true),
  };
  const handled = corsHandler(origins)({ method, headers } as unknown as NodeRequest, res as unknown as NodeResponse);
  return { handled, headers: written, status, ended };
}

const preflight = { "access-control-request-method": "POST" };

describe("corsHandler", () => {
  it('allows any origin with "*" and echoes it', () => {
    const r = call(["*"], "OPTIONS", { origin: "http://localhost:5173", ...preflight });
    expect(r).toMatchObject({ handled: true, status: 204, ended: true });
    expect(r.headers["access-control-allow-origin"]).toBe("http://localhost:5173");
    expect(r.headers["vary"]).toBe("Origin");
    expect(r.headers["access-control-max-age"]).toBe("7200");
  });

  it("matches listed origins exactly", () => {
    const origins = ["https://a.example", "https://b.example"];
    expect(call(origins, "POST", { origin: "https://b.example" }).headers["access-control-allow-origin"]).toBe(
      "https://b.example",
    );
    expect(
      call(origins, "POST", { origin: "https://a.example.evil" }).headers["access-control-allow-origin"],
    ).toBeUndefined();
    expect(
      call(origins, "POST", { origin: "http://a.example" }).headers["access-control-allow-origin"],
    ).toBeUndefined();
  });

  it("leaves requests without Origin, and non-preflight OPTIONS, to the next handler", () => {
    expect(call(["*"], "POST", {})).toEqual({ handled: false, headers: {}, status: undefined, ended: false });
    const plainOptions = call(["*"], "OPTIONS", { origin: "https://a.example" });
    expect(plainOptions.handled).toBe(false);
    expect(plainOptions.headers["access-control-expose-headers"]).toContain("Grpc-Status");
  });
});
