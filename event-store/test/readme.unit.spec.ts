import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configDocs } from "../src/config.js";
import { repoRoot } from "./harness.js";

const readme = readFileSync(`${repoRoot}/README.md`, "utf8");

describe("README", () => {
  it("documents every configuration variable with its real default and meaning", () => {
    for (const doc of configDocs) {
      expect(readme).toContain(`| \`${doc.name}\` | ${doc.default} | ${doc.meaning} |`);
    }
  });

  it("documents no variable the service does not read", () => {
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gmu)].map((m) => m[1]);
    expect(documented.sort()).toEqual(configDocs.map((d) => d.name).sort());
  });
});
