import { readFile } from "node:fs/promises";
import { UsageError } from "./exit-codes.js";

/** A log id, version or offset from the command line: a whole number of at most 20 digits, at least `min`. */
export function wholeNumber(value: unknown, flag: string, min = 0n): bigint {
  const text = String(value).trim();
  if (!/^\d{1,20}$/u.test(text)) throw new UsageError(`${flag} must be a whole number, got ${JSON.stringify(value)}`);
  const parsed = BigInt(text);
  if (parsed < min || parsed > 0xffff_ffff_ffff_ffffn) {
    throw new UsageError(`${flag} must be between ${min} and 18446744073709551615, got ${text}`);
  }
  return parsed;
}

/**
 * JSON given on the command line, or read from a file when it starts with `@` (`@-` reads standard input), as its
 * text, checked: malformed JSON is refused here, before any call, with where it broke.
 */
export async function jsonArgument(value: string, flag: string, stdin: NodeJS.ReadableStream = process.stdin) {
  let text = value;
  if (value.startsWith("@")) {
    const path = value.slice(1);
    try {
      text = path === "-" ? await readAll(stdin) : await readFile(path, "utf8");
    } catch (error) {
      throw new UsageError(`${flag}: cannot read ${path}: ${(error as Error).message}`);
    }
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} is not valid JSON: ${(error as Error).message}`);
  }
  return text;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}
