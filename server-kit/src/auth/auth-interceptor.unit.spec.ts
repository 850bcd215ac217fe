import { Code, ConnectError, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { authInterceptor } from "./auth-interceptor.js";
import { healthAccess } from "./rpc-access.js";
import { TokenVerifier } from "./token-verifier.js";

const full = "full-token-0123456789";
const read = "read-token-0123456789";

/** Calls the interceptor for a method of a service the access table does not know. */
async function callUnclassified(token: string): Promise<Code | "ok"> {
  const method = { name: "Do", localName: "do", parent: { typeName: "acme.v1.NewService" } };
  const req = { method, header: new Headers({ authorization: `Bearer ${token}` }) } as unknown as UnaryRequest;
  const next = async () => ({}) as UnaryResponse;
  try {
    await authInterceptor(new TokenVerifier({ full: [full], read: [read] }), healthAccess)(next)(req);
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe("authInterceptor", () => {
  it("treats a method missing from the access table as a write: full tokens only", async () => {
    expect(await callUnclassified(full)).toBe("ok");
    expect(await callUnclassified(read)).toBe(Code.PermissionDenied);
    expect(await callUnclassified("other-token-0123456789")).toBe(Code.Unauthenticated);
  });
});
