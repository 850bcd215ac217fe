import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/compose-file.js";
import { runToEnd } from "./support/image-run.js";

// `make deploy` and `make down` with a stand-in `docker` that records its arguments (there is no Docker engine
// here), and without one: they must say what is missing rather than fail on a cryptic message.

let bin = "";
let empty = "";
let log = "";

// The stand-in: `FAIL_ON` makes the call whose arguments start with it fail, as a real docker does when the Compose
// plugin is missing (`compose version`) or no engine answers (`info`).
const fakeDocker = `#!/bin/bash
echo "$*" >> "$FAKE_DOCKER_LOG"
if [ -n "$FAIL_ON" ] && [[ "$*" == "$FAIL_ON"* ]]; then echo "fake docker: $*: failed" >&2; exit 1; fi
exit 0
`;

beforeAll(async () => {
  bin = await mkdtemp(join(tmpdir(), "eskit-fake-docker-"));
  empty = await mkdtemp(join(tmpdir(), "eskit-no-docker-"));
  log = join(bin, "calls.log");
  await writeFile(join(bin, "docker"), fakeDocker);
  await chmod(join(bin, "docker"), 0o755);
});

afterAll(async () => {
  await rm(bin, { recursive: true, force: true });
  await rm(empty, { recursive: true, force: true });
});

/** Runs `make <target>` in the repository with only `path` on PATH (make itself is found here, by this PATH). */
async function make(target: string, path: string, env: Record<string, string> = {}) {
  await writeFile(log, "");
  const makePath = (await runToEnd("/bin/sh", ["-c", "command -v make"], repoRoot)).output.trim();
  const result = await runToEnd(makePath, ["--no-print-directory", target], repoRoot, {
    PATH: path,
    FAKE_DOCKER_LOG: log,
    ...env,
  });
  return { ...result, calls: (await readFile(log, "utf8")).split("\n").filter((l) => l !== "") };
}

describe("make deploy and make down", () => {
  it("are listed by make help", async () => {
    const { output } = await make("help", "/usr/bin:/bin");
    expect(output).toMatch(/^ {2}deploy +Build the images and start everything with Docker Compose/mu);
    expect(output).toMatch(/^ {2}down +Stop the Docker Compose deployment/mu);
  });

  it("bring the system up with Compose, building the images and waiting until it is healthy, and take it down", async () => {
    const up = await make("deploy", `${bin}:/usr/bin:/bin`);
    expect(up.code, up.output).toBe(0);
    expect(up.calls).toEqual(["compose version", "info", "compose up --detach --build --wait"]);
    const down = await make("down", `${bin}:/usr/bin:/bin`);
    expect(down.code, down.output).toBe(0);
    expect(down.calls).toEqual(["compose version", "info", "compose down"]);
  });

  it("say that docker is not installed when it is not", async () => {
    for (const target of ["deploy", "down"]) {
      const result = await make(target, empty);
      expect(result.code).not.toBe(0);
      expect(result.output).toContain(
        `make ${target}: docker is not installed; this target needs Docker with the Compose plugin`,
      );
    }
  });

  it("say that the Compose plugin is missing, or that no engine answers, before trying anything", async () => {
    const noCompose = await make("deploy", `${bin}:/usr/bin:/bin`, { FAIL_ON: "compose version" });
    expect(noCompose.code).not.toBe(0);
    expect(noCompose.output).toContain("make deploy: the Docker Compose plugin is missing");
    expect(noCompose.calls).toEqual(["compose version"]);
    const noEngine = await make("down", `${bin}:/usr/bin:/bin`, { FAIL_ON: "info" });
    expect(noEngine.code).not.toBe(0);
    expect(noEngine.output).toContain("make down: no Docker engine answers");
    expect(noEngine.calls).toEqual(["compose version", "info"]);
  });
});
