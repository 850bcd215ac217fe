import { describe, expect, it } from "vitest";
import { MAX_TOKEN_LENGTH, parseTokenFile, parseTokenList, tokenProblem } from "./token-list.js";

describe("tokenProblem", () => {
  it("accepts hex, base64 and base64url tokens of 16 to 4096 characters", () => {
    expect(tokenProblem("0123456789abcdef")).toBeUndefined();
    expect(tokenProblem("q1w2e3r4t5y6u7i8o9p0+/AZ==")).toBeUndefined();
    expect(tokenProblem("abc-DEF_ghi.jkl~mno")).toBeUndefined();
    expect(tokenProblem("a".repeat(MAX_TOKEN_LENGTH))).toBeUndefined();
  });

  it("refuses short, long and ill-formed tokens, naming the rule and not the token", () => {
    expect(tokenProblem("0123456789abcde")).toBe("is 15 characters long; a token needs at least 16");
    expect(tokenProblem("a".repeat(MAX_TOKEN_LENGTH + 1))).toBe("is 4097 characters long; at most 4096 are accepted");
    for (const bad of [
      "0123456789 abcdef",
      '0123456789abcdef"',
      "0123456789=abcdef",
      "0123456789abcdéf",
      "#0123456789abcdef",
    ]) {
      expect(tokenProblem(bad), bad).toMatch(/^has a character a bearer token cannot have/u);
    }
  });
});

describe("parseTokenList", () => {
  it("splits on commas, trims, and drops repeats", () => {
    expect(parseTokenList(" aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbb,aaaaaaaaaaaaaaaa", "T")).toEqual({
      tokens: ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"],
      problems: [],
    });
  });

  it("names the position of each bad token", () => {
    expect(parseTokenList("aaaaaaaaaaaaaaaa,short,,", "T").problems).toEqual([
      "T has an empty token (two commas in a row, or one at an end)",
      "T: token 2 of 4 is 5 characters long; a token needs at least 16",
    ]);
  });
});

describe("parseTokenFile", () => {
  it("reads one token a line, skipping blank lines and # comments, with CRLF line ends", () => {
    expect(parseTokenFile("# ci\r\naaaaaaaaaaaaaaaa\r\n\r\n   # ops\r\n  bbbbbbbbbbbbbbbb  \r\n", "F")).toEqual({
      tokens: ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"],
      problems: [],
    });
  });

  it("names the line of each bad token, and refuses a file without any", () => {
    expect(parseTokenFile("aaaaaaaaaaaaaaaa\nshort\n", "F").problems).toEqual([
      "F line 2 is 5 characters long; a token needs at least 16",
    ]);
    expect(parseTokenFile("\n# later\n", "F")).toEqual({ tokens: [], problems: ["F holds no token"] });
    expect(parseTokenFile("aaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbb\n", "F").problems).toEqual([
      "F line 1 has a character a bearer token cannot have (allowed: A-Z a-z 0-9 - . _ ~ + /, and = at the end)",
    ]);
  });
});
