import { manualPage, manualPages } from "./readme-sections.js";

/**
 * The shell examples of a Markdown manual, as a reader would paste them: every ```sh block split into commands
 * (a command goes on across `\` line ends and across line ends inside quotes, as in bash), each with the output the
 * manual shows for it. The output is the `#` lines right under the command; a `#` line after a blank line, or at the
 * top of a block, is a remark, not output.
 */

/** One command of a ```sh block. */
export interface ShellExample {
  /** The 1-based line of the README where the command starts. */
  readonly line: number;
  /** The command as written (several lines when it continues), trailing comments included. */
  readonly command: string;
  /** The `#` lines under it without their `# `, joined by newlines; "" when the manual shows no output. */
  readonly expected: string;
}

/** A command that only sets a shell variable (`C=http://...`): later commands of the manual use it. */
export interface Assignment {
  readonly name: string;
  readonly value: string;
}

/**
 * The commands of the README that are not run, and why. Every other command must end within the test's timeout; one
 * that does not fails its test, so a new never-ending example has to be added here, with its reason, or given a
 * deadline (`curl --max-time`, `buf curl --timeout`).
 */
export const notRun: ReadonlyArray<{ readonly pattern: RegExp; readonly reason: string }> = [
  {
    pattern: /^(?:[A-Z_]+=\S+\s+)*make\b/u,
    reason: "a make target: `make run` never ends, `make test` runs this test, and CI runs the others itself",
  },
  {
    pattern: /^(?:[A-Z_]+=\S+\s+(?:\\\n\s*)?)*node --import tsx \S+\/main\.ts\b/u,
    reason: "starts a service, which runs until it is stopped (the test started the same services)",
  },
  {
    pattern: /^npx buf curl\b(?![^]*--timeout)[^]*\/(?:LogsPoll|Watch)\b/u,
    reason: "a stream without a deadline: it goes on until Ctrl-C",
  },
  {
    pattern: /^npx eskit\b[^\n]*\btail\b/u,
    reason: "follows the log until Ctrl-C (cli/test/log.e2e.spec.ts runs it and stops it)",
  },
  { pattern: /^docker\b/u, reason: "needs a Docker engine, which the test machines do not have" },
];

/** Why `command` is not run, or undefined when it is. */
export function notRunReason(command: string): string | undefined {
  return notRun.find((rule) => rule.pattern.test(command.trim()))?.reason;
}

const fence = /^```(\w*)\s*$/u;
const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/u;

/** Every command of every ```sh (or ```bash, ```shell) block of `markdown`, in order. */
export function shellExamples(markdown: string): ShellExample[] {
  const lines = markdown.split("\n");
  const examples: Array<{ line: number; command: string; expected: string[] }> = [];
  let inShell = false;
  let inFence = false;
  let pending: { line: number; text: string[] } | undefined;
  // The example whose output the next `#` lines are: the last command, until a blank line or a new command.
  let collecting: { expected: string[] } | undefined;
  for (const [index, line] of lines.entries()) {
    const opening = fence.exec(line);
    if (opening !== null) {
      if (pending !== undefined)
        throw new Error(`README line ${pending.line}: a command runs into the end of its block`);
      inFence = !inFence;
      inShell = inFence && ["sh", "bash", "shell"].includes(opening[1] ?? "");
      collecting = undefined;
      continue;
    }
    if (!inShell) continue;
    if (pending !== undefined) {
      pending.text.push(line);
    } else if (line.trim() === "") {
      collecting = undefined;
      continue;
    } else if (/^\s*#/u.test(line)) {
      collecting?.expected.push(line.replace(/^\s*# ?/u, ""));
      continue;
    } else {
      pending = { line: index + 1, text: [line] };
    }
    if (continues(pending.text.join("\n"))) continue;
    const example = { line: pending.line, command: pending.text.join("\n"), expected: [] };
    examples.push(example);
    collecting = example;
    pending = undefined;
  }
  return examples.map((e) => ({ line: e.line, command: e.command, expected: e.expected.join("\n") }));
}

/** The variable a command sets, when all it does is set one. */
export function assignmentOf(command: string): Assignment | undefined {
  const match = assignment.exec(command.trim());
  return match === null ? undefined : { name: match[1] ?? "", value: unquote(match[2] ?? "") };
}

/** `command` with `$NAME` and `${NAME}` of `variables` replaced by their values (others are left alone). */
export function expandVariables(command: string, variables: ReadonlyMap<string, string>): string {
  return command.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/gu, (whole, name: string) => variables.get(name) ?? whole);
}

/**
 * Whether bash would read another line to finish `text`: an unclosed quote, or a `\` at the very end. A `#` that
 * starts a word outside quotes comments out the rest of its line.
 */
function continues(text: string): boolean {
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (c === "\\") {
      if (i === text.length - 1) return true;
      i++;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === "#" && (i === 0 || /\s/u.test(text[i - 1] ?? ""))) {
      const end = text.indexOf("\n", i);
      if (end < 0) return false;
      i = end;
    }
  }
  return quote !== undefined;
}

function unquote(value: string): string {
  return /^(['"]).*\1$/u.test(value) ? value.slice(1, -1) : value;
}

/** A command of the manual, with the page it is on. */
export interface ManualExample extends ShellExample {
  /** The page, relative to the repository (README.md, docs/api.md, ...). */
  readonly page: string;
}

/** The shell examples of every page of the manual, in the order they run (see readme-sections.ts). */
export function manualExamples(repoRoot: string): ManualExample[] {
  return manualPages.flatMap((page) =>
    shellExamples(manualPage(repoRoot, page)).map((example) => ({ ...example, page })),
  );
}
