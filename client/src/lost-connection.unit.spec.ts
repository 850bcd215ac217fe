import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { isLostConnection } from "./lost-connection.js";

// How each fetch words a network error (the int spec drives Node's own, over real sockets).
const browserWordings = [
  "Failed to fetch", // Chromium
  "NetworkError when attempting to fetch resource.", // Firefox
  "Load failed", // Safari
  "network error", // a body cut off, Chromium
];

describe("isLostConnection for fetch-based transports", () => {
  const live = new AbortController().signal;

  it.each(browserWordings)("takes Connect's unknown over a TypeError %j for a lost connection", (message) => {
    expect(isLostConnection(ConnectError.from(new TypeError(message)), live)).toBe(true);
  });

  it("not a TypeError from a bug, nor an unknown the server sent, nor after the caller aborted", () => {
    expect(isLostConnection(ConnectError.from(new TypeError("x.map is not a function")), live)).toBe(false);
    expect(isLostConnection(new ConnectError("Failed to fetch", Code.Unknown), live)).toBe(false);
    const aborted = new AbortController();
    aborted.abort();
    expect(isLostConnection(ConnectError.from(new TypeError("Failed to fetch")), aborted.signal)).toBe(false);
  });
});
