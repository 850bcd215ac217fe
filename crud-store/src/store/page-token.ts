import { ValidationError } from "../domain/errors.js";

/**
 * Page tokens are opaque to callers (base64url of "<kind>:<position>"), so the position's form can change without
 * breaking them, and a token of one RPC is not silently accepted by another.
 */
export function encodePageToken(kind: string, position: string): string {
  return Buffer.from(`${kind}:${position}`, "utf8").toString("base64url");
}

/** The position in `token` ("" for the first page); ValidationError when it is not a token of this kind. */
export function decodePageToken(kind: string, token: string, where = "page_token"): string {
  if (token === "") return "";
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, "base64url").toString("utf8") : "";
  if (!text.startsWith(`${kind}:`) || text.length === kind.length + 1) {
    throw new ValidationError(
      `${where} is not a token returned by this RPC: pass next_page_token unchanged, or "" for the first page`,
    );
  }
  return text.slice(kind.length + 1);
}
