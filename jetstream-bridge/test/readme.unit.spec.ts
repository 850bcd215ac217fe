import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { repoRoot } from "@eskit/test-kit/event-store.js";
import { configSection } from "@eskit/test-kit/readme-sections.js";
import { configDocs } from "../src/config.js";

const section = configSection(readFileSync(`${repoRoot}/docs/configuration.md`, "utf8"), "JetStream bridge");
const readme = readFileSync(`${repoRoot}/jetstream-bridge/README.md`, "utf8");

describe("README", () => {
  it("documents every configuration variable of the JetStream bridge with its real default and meaning", () => {
    for (const doc of configDocs) {
      expect(section).toContain(`| \`${doc.name}\` | ${doc.default} | ${doc.meaning} |`);
    }
  });

  it("documents no variable the JetStream bridge does not read", () => {
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gmu)].map((m) => m[1]);
    expect(documented.sort()).toEqual(configDocs.map((d) => d.name).sort());
  });

  it("keeps the table in one place: the bridge's own README links to it instead of holding a copy", () => {
    expect(readme).not.toMatch(/^\| `[A-Z_]+` \|/mu);
    expect(readme).toContain("(../docs/configuration.md#jetstream-bridge)");
  });
});
