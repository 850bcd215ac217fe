import { describe, expect, it } from "vitest";
import { decodeSegment, documentPath, encodeSegment, typePath } from "./document-paths.js";

/** What wouter does to a path before matching it: decodeURI, only when the path holds a `%`. */
const asWouterSees = (path: string) => (path.includes("%") ? decodeURI(path) : path);

describe("document paths", () => {
  it("give back every type and id exactly, after wouter has decoded the path", () => {
    const texts = ["acme.User", "a/b", "100%", "a%2Fb", "%25", "é ü", "?#&=+", "x%"];
    for (const text of texts) {
      const [param] = asWouterSees(typePath(text)).slice(1).split("/");
      expect(decodeSegment(param!)).toBe(text);
    }
  });

  it("keep a document's type and id in two segments whatever they hold", () => {
    const seen = asWouterSees(documentPath("acme/v1.User", "id/with%slash"));
    const [type, id] = seen.slice(1).split("/");
    expect([decodeSegment(type!), decodeSegment(id!)]).toEqual(["acme/v1.User", "id/with%slash"]);
  });

  it("leave plain names readable in the address bar", () => {
    expect(documentPath("acme.users.v1.User", "user-1")).toBe("/acme.users.v1.User/user-1");
    expect(encodeSegment("a b")).toBe("a%20b");
  });

  it("read a mangled param as it is instead of failing", () => {
    expect(decodeSegment("%E0%A4%A")).toBe("%E0%A4%A");
  });
});
