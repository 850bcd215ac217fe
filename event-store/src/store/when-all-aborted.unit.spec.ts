import { describe, expect, it } from "vitest";
import { whenAllAborted } from "./when-all-aborted.js";

describe("whenAllAborted", () => {
  it("aborts once the last of the signals aborts, not before", () => {
    const [a, b] = [new AbortController(), new AbortController()];
    const all = whenAllAborted([a.signal, b.signal]);
    a.abort();
    expect(all.signal.aborted).toBe(false);
    b.abort();
    expect(all.signal.aborted).toBe(true);
  });

  it("counts signals aborted before it was made", () => {
    const [a, b] = [new AbortController(), new AbortController()];
    a.abort();
    const all = whenAllAborted([a.signal, b.signal]);
    expect(all.signal.aborted).toBe(false);
    b.abort();
    expect(all.signal.aborted).toBe(true);
    expect(whenAllAborted([a.signal]).signal.aborted).toBe(true);
  });

  it("never aborts when one request has no signal", () => {
    const a = new AbortController();
    const all = whenAllAborted([a.signal, undefined]);
    a.abort();
    expect(all.signal.aborted).toBe(false);
  });

  it("stops listening once disposed", () => {
    const a = new AbortController();
    const all = whenAllAborted([a.signal]);
    all.dispose();
    a.abort();
    expect(all.signal.aborted).toBe(false);
  });
});
