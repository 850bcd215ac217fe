import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configDocs } from "../src/config.js";
import { repoRoot } from "./harness.js";
import { configSection } from "@eskit/test-kit/readme-sections.js";

const readme = readFileSync(`${repoRoot}/docs/configuration.md`, "utf8");

describe("README", () => {
  const section = configSection(readme, "Event Store");

  it("documents every configuration variable of the Event Store with its real default and meaning", () => {
    for (const doc of configDocs) {
      expect(section).toContain(`| \`${doc.name}\` | ${doc.default} | ${doc.meaning} |`);
    }
  });

  it("documents no variable the Event Store does not read", () => {
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gmu)].map((m) => m[1]);
    expect(documented.sort()).toEqual(configDocs.map((d) => d.name).sort());
  });
});
