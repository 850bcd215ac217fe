import { describe, expect, it } from "vitest";
import { serviceUrlProblem, settingsOfDraft, settingsProblems } from "./access-form.js";

const draft = {
  eventStoreUrl: " http://127.0.0.1:8081/ ",
  crudStoreUrl: "https://crud.example.com/eskit//",
  protocol: "connect" as const,
  token: "  0123456789abcdef\n",
};

describe("serviceUrlProblem", () => {
  it("accepts http and https URLs, with a path", () => {
    expect(serviceUrlProblem("http://127.0.0.1:8081")).toBeUndefined();
    expect(serviceUrlProblem("https://eskit.example.com/api")).toBeUndefined();
  });

  it("says why anything else cannot be called", () => {
    expect(serviceUrlProblem("  ")).toBe("a URL is needed, e.g. http://127.0.0.1:8081");
    expect(serviceUrlProblem("localhost:8081")).toBe("the browser calls services over http: or https:");
    expect(serviceUrlProblem("127.0.0.1:8081")).toBe("not a URL: write it whole, e.g. http://127.0.0.1:8081");
    expect(serviceUrlProblem("localhost")).toBe("not a URL: write it whole, e.g. http://127.0.0.1:8081");
    expect(serviceUrlProblem("ftp://host")).toBe("the browser calls services over http: or https:");
    expect(serviceUrlProblem("http://host/?a=1")).toBe("a service URL has no query or fragment");
  });
});

describe("settingsProblems", () => {
  it("names each field that is wrong and nothing else", () => {
    expect(settingsProblems(draft)).toEqual({});
    expect(settingsProblems({ ...draft, crudStoreUrl: "" })).toEqual({
      crudStoreUrl: "a URL is needed, e.g. http://127.0.0.1:8081",
    });
  });
});

describe("settingsOfDraft", () => {
  it("trims the URLs and token and drops trailing slashes", () => {
    expect(settingsOfDraft(draft)).toEqual({
      eventStoreUrl: "http://127.0.0.1:8081",
      crudStoreUrl: "https://crud.example.com/eskit",
      protocol: "connect",
      token: "0123456789abcdef",
    });
  });
});
