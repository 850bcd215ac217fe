import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { repoRoot } from "@eskit/test-kit/event-store.js";
import { configSection } from "@eskit/test-kit/readme-sections.js";
import { configDocs } from "../src/config.js";

const section = configSection(readFileSync(`${repoRoot}/docs/configuration.md`, "utf8"), "Metrics Consumer");

describe("README", () => {
  it("documents every configuration variable of the Metrics Consumer with its real default and meaning", () => {
    for (const doc of configDocs) {
      expect(section).toContain(`| \`${doc.name}\` | ${doc.default} | ${doc.meaning} |`);
    }
  });

  it("documents no variable the Metrics Consumer does not read", () => {
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gmu)].map((m) => m[1]);
    expect(documented.sort()).toEqual(configDocs.map((d) => d.name).sort());
  });
});
