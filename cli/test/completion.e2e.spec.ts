import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// The completion script as a user installs it (`eskit completion >> ~/.bashrc`), loaded into a real bash, which then
// asks it what to offer for a few half-typed command lines. `eskit` is on the PATH as it is after `npm install -g`.
const bin = fileURLToPath(new URL("../bin/eskit.mjs", import.meta.url));
const pathDir = mkdtempSync(join(tmpdir(), "eskit-path-"));
symlinkSync(bin, join(pathDir, "eskit"));
const bash = spawnSync("bash", ["--version"]).status === 0;
const env = { ...process.env, PATH: `${pathDir}:${process.env["PATH"]}` };
/** The script `eskit completion` prints, written once: each completion below then runs eskit once, as bash does. */
const scriptFile = join(pathDir, "eskit-completion.bash");
if (bash) writeFileSync(scriptFile, spawnSync("eskit", ["completion"], { env, encoding: "utf8" }).stdout);

/** What bash's completion offers for `words`, the last one being the word under the cursor. */
function complete(words: readonly string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const script = [
    `source '${scriptFile}'`,
    `COMP_WORDS=(${quoted})`,
    `COMP_CWORD=${words.length - 1}`,
    "_eskit_yargs_completions",
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  const run = spawnSync("bash", ["-c", script], {
    env,
    encoding: "utf8",
    timeout: 20_000,
  });
  expect(run.stderr).toBe("");
  return run.stdout.split("\n").filter((line) => line !== "");
}

describe.skipIf(!bash)("eskit completion in bash", () => {
  afterAll(() => rmSync(pathDir, { recursive: true, force: true }));

  it("completes a command from its first letters", () => {
    expect(complete(["eskit", "do"])).toEqual(["doc"]);
    expect(complete(["eskit", "ex"])).toEqual(["export"]);
  });

  it("offers every subcommand of doc", () => {
    expect(complete(["eskit", "doc", ""]).sort()).toEqual(["create", "delete", "get", "history", "list", "update"]);
  });

  it("completes a command's own flags", () => {
    expect(complete(["eskit", "export", "--sel"])).toEqual(["--selector"]);
    expect(complete(["eskit", "import", "some.ndjson", "--ba"])).toEqual(["--batch"]);
  });
});
