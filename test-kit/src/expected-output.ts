/**
 * Compares what a command printed with the output a manual shows for it. `...` stands for anything the manual does not
 * spell out (a timestamp, a generated id, the rest of a message), so the examples stay readable and still checked.
 *
 * When the manual shows JSON (one or more values, like a `buf curl` stream or an error after a message), the output
 * must be the same sequence of JSON values, compared as values: key order and white space do not matter, so compact
 * JSON in the manual matches the indented JSON `buf curl` prints. In it, `{...}`, `[...]`, a bare `...` and the string
 * `"..."` match any one value, `...` last in an object (`{"id":"1",...}`) stands for any further members, and `...`
 * inside a string matches any characters. Otherwise the text is compared line by
 * line (trailing white space ignored), `...` matching any characters, across lines too.
 */

const any = "...";

/** Undefined when `actual` matches `expected`; else what differs. */
export function outputMismatch(actual: string, expected: string): string | undefined {
  const expectedValues = jsonValues(withWildcardValues(expected));
  if (expectedValues === undefined) {
    return wildcardRegExp(normalizeText(expected)).test(normalizeText(actual)) ? undefined : "the text differs";
  }
  const actualValues = jsonValues(actual);
  if (actualValues === undefined) return "the manual shows JSON, but the output is not JSON";
  if (actualValues.length !== expectedValues.length) {
    return `${actualValues.length} JSON value(s) printed, ${expectedValues.length} shown`;
  }
  for (const [i, value] of expectedValues.entries()) {
    const problem = valueMismatch(actualValues[i], value, `value ${i + 1}`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Whether the last value the manual shows is a Connect error (`{"code":...}`), which `buf curl` exits non-zero on. */
export function showsError(expected: string): boolean {
  const values = jsonValues(withWildcardValues(expected));
  const last = values?.at(-1);
  return typeof last === "object" && last !== null && "code" in last;
}

function valueMismatch(actual: unknown, expected: unknown, path: string): string | undefined {
  if (expected === any) return undefined;
  if (typeof expected === "string") {
    if (typeof actual === "string" && wildcardRegExp(expected).test(actual)) return undefined;
    return `${path}: ${JSON.stringify(actual)} does not match ${JSON.stringify(expected)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
    if (actual.length !== expected.length) {
      return `${path}: ${actual.length} elements, expected ${expected.length}: ${JSON.stringify(actual)}`;
    }
    for (const [i, element] of expected.entries()) {
      const problem = valueMismatch(actual[i], element, `${path}[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) {
      return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    }
    const actualKeys = Object.keys(actual).sort();
    const expectedKeys = Object.keys(expected)
      .filter((key) => key !== any)
      .sort();
    const keysMatch =
      any in expected ? expectedKeys.every((key) => key in actual) : actualKeys.join() === expectedKeys.join();
    if (!keysMatch) {
      return `${path}: keys ${JSON.stringify(actualKeys)}, expected ${JSON.stringify(expectedKeys)}: ${JSON.stringify(actual)}`;
    }
    for (const key of expectedKeys) {
      const problem = valueMismatch(
        (actual as Record<string, unknown>)[key],
        (expected as Record<string, unknown>)[key],
        `${path}.${key}`,
      );
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return actual === expected ? undefined : `${path}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
}

/** `{...}`, `[...]` and a bare `...` outside strings become the string `"..."`, so the text can parse as JSON. */
function withWildcardValues(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? "";
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (text.startsWith("{...}", i) || text.startsWith("[...]", i)) {
      out += '"..."';
      i += 4;
    } else if (text.startsWith(any, i)) {
      // Last in an object (`{"id":"1",...}`): a member standing for the members not shown.
      const rest =
        /[{,]$/u.test(out.trimEnd()) &&
        text
          .slice(i + 3)
          .trimStart()
          .startsWith("}");
      out += rest ? `"${any}":"${any}"` : `"${any}"`;
      i += 2;
    } else {
      out += c;
      inString = c === '"';
    }
  }
  return out;
}

/** The JSON values of `text`, one after the other (white space between); undefined when it is not only that. */
function jsonValues(text: string): unknown[] | undefined {
  const values: unknown[] = [];
  let start = -1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? "";
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === "{" || c === "[") {
      if (depth++ === 0) start = i;
    } else if (c === "}" || c === "]") {
      if (--depth < 0) return undefined;
      if (depth === 0) {
        try {
          values.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          return undefined;
        }
      }
    } else if (depth === 0 && !/\s/u.test(c)) {
      return undefined;
    }
  }
  return depth === 0 && values.length > 0 ? values : undefined;
}

/** `pattern` as a whole-string regular expression in which `...` matches any characters, line ends included. */
function wildcardRegExp(pattern: string): RegExp {
  const parts = pattern.split(any).map((part) => part.replace(/[.*+?^${}()|[\]\\]/gu, "\\$&"));
  return new RegExp(`^${parts.join("[\\s\\S]*")}$`, "u");
}

function normalizeText(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")
    .trim();
}
