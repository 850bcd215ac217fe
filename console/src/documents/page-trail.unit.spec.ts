import { describe, expect, it } from "vitest";
import { currentToken, firstPage, nextPage, previousPage } from "./page-trail.js";

describe("page trail", () => {
  it("starts at the first page, asked with an empty token", () => {
    expect(currentToken(firstPage)).toBe("");
    expect(firstPage).toHaveLength(1);
  });

  it("goes forward with each page's next token and back through the tokens seen", () => {
    const third = nextPage(nextPage(firstPage, "t2"), "t3");
    expect(third).toEqual(["", "t2", "t3"]);
    expect(currentToken(third)).toBe("t3");
    expect(currentToken(previousPage(third))).toBe("t2");
    expect(currentToken(previousPage(previousPage(third)))).toBe("");
  });

  it("stays at the last page when there is no next token, and at the first when going back from it", () => {
    const second = nextPage(firstPage, "t2");
    expect(nextPage(second, "")).toBe(second);
    expect(previousPage(firstPage)).toBe(firstPage);
  });
});
