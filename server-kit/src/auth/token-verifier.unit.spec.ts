import { describe, expect, it } from "vitest";
import { TokenVerifier } from "./token-verifier.js";

const full = "full-token-0123456789";
const full2 = "full-token-abcdefghij";
const read = "read-token-0123456789";

describe("TokenVerifier", () => {
  const verifier = new TokenVerifier({ full: [full, full2], read: [read] });

  it("grants full or read by the token in a Bearer header", () => {
    expect(verifier.verify(`Bearer ${full}`)).toEqual({ ok: true, grant: "full" });
    expect(verifier.verify(`Bearer ${full2}`)).toEqual({ ok: true, grant: "full" });
    expect(verifier.verify(`Bearer ${read}`)).toEqual({ ok: true, grant: "read" });
  });

  it("takes the scheme in any case and extra spaces around the token", () => {
    expect(verifier.verify(`bearer ${full}`)).toEqual({ ok: true, grant: "full" });
    expect(verifier.verify(`BEARER   ${read}  `)).toEqual({ ok: true, grant: "read" });
  });

  it("says whether the header is missing, malformed or holds an unknown token", () => {
    expect(verifier.verify(null)).toEqual({ ok: false, refusal: "missing" });
    expect(verifier.verify(undefined)).toEqual({ ok: false, refusal: "missing" });
    expect(verifier.verify("  ")).toEqual({ ok: false, refusal: "missing" });
    expect(verifier.verify(full)).toEqual({ ok: false, refusal: "malformed" });
    expect(verifier.verify(`Basic ${Buffer.from(`u:${full}`).toString("base64")}`)).toEqual({
      ok: false,
      refusal: "malformed",
    });
    expect(verifier.verify("Bearer")).toEqual({ ok: false, refusal: "malformed" });
    expect(verifier.verify(`Bearer ${full} extra`)).toEqual({ ok: false, refusal: "malformed" });
    expect(verifier.verify(`Bearer ${full}x`)).toEqual({ ok: false, refusal: "unknown" });
    expect(verifier.verify(`Bearer ${full.slice(0, -1)}`)).toEqual({ ok: false, refusal: "unknown" });
    expect(verifier.verify(`Bearer ${"x".repeat(10_000)}`)).toEqual({ ok: false, refusal: "unknown" });
  });

  it("is enabled only with at least one token", () => {
    expect(verifier.enabled).toBe(true);
    expect(new TokenVerifier({ full: [], read: [read] }).enabled).toBe(true);
    const off = new TokenVerifier({ full: [], read: [] });
    expect(off.enabled).toBe(false);
    expect(off.verify(`Bearer ${full}`)).toEqual({ ok: false, refusal: "unknown" });
  });

  it("keeps only digests, never the tokens", () => {
    const kept = JSON.stringify(Object.values(verifier), (_k, v: unknown) =>
      Buffer.isBuffer(v) ? v.toString("latin1") : v,
    );
    for (const token of [full, full2, read]) expect(kept).not.toContain(token);
  });
});
