/** Shortest token accepted: a short token can be guessed, and the length check catches a truncated secret. */
export const MIN_TOKEN_LENGTH = 16;
/** Longest token accepted, well under Node's 16 KiB header limit. */
export const MAX_TOKEN_LENGTH = 4096;

// RFC 6750 `b64token`: what may follow "Bearer " unquoted. It has no comma, no `#` and no white space, so a list in an
// environment variable and comment lines in a file are unambiguous; `openssl rand -hex 32` and `-base64 32` fit.
const tokenSyntax = /^[A-Za-z0-9\-._~+/]+=*$/u;

/** Tokens read from a variable or a file, and what is wrong with them (messages never contain a token). */
export interface ParsedTokens {
  readonly tokens: string[];
  readonly problems: string[];
}

/**
 * Why `token` cannot be a bearer token, or undefined when it can. The reason names the length and the rule, never
 * the token: configuration errors end up in logs and terminals.
 */
export function tokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) {
    return `is ${token.length} characters long; a token needs at least ${MIN_TOKEN_LENGTH}`;
  }
  if (token.length > MAX_TOKEN_LENGTH)
    return `is ${token.length} characters long; at most ${MAX_TOKEN_LENGTH} are accepted`;
  if (!tokenSyntax.test(token)) {
    return "has a character a bearer token cannot have (allowed: A-Z a-z 0-9 - . _ ~ + /, and = at the end)";
  }
  return undefined;
}

/** The tokens of a comma-separated list such as `ESKIT_AUTH_TOKENS` (white space around each is ignored). */
export function parseTokenList(text: string, source: string): ParsedTokens {
  const items = text.split(",").map((item) => item.trim());
  return collect(
    items.map((token, i) => ({ token, where: `${source}: token ${i + 1} of ${items.length}` })),
    `${source} has an empty token (two commas in a row, or one at an end)`,
  );
}

/**
 * The tokens of a file: one a line; blank lines and lines starting with `#` are skipped, so a secret file can say
 * what each token is for. A file without any token is a problem: it must not silently turn access control off.
 */
export function parseTokenFile(text: string, source: string): ParsedTokens {
  const lines = text.split(/\r?\n/u).map((line, i) => ({ token: line.trim(), where: `${source} line ${i + 1}` }));
  const kept = lines.filter(({ token }) => token !== "" && !token.startsWith("#"));
  if (kept.length === 0) return { tokens: [], problems: [`${source} holds no token`] };
  return collect(kept, undefined);
}

function collect(
  items: ReadonlyArray<{ token: string; where: string }>,
  emptyProblem: string | undefined,
): ParsedTokens {
  const tokens: string[] = [];
  const problems: string[] = [];
  if (emptyProblem !== undefined && items.some(({ token }) => token === "")) problems.push(emptyProblem);
  for (const { token, where } of items) {
    if (token === "") continue;
    const problem = tokenProblem(token);
    if (problem !== undefined) problems.push(`${where} ${problem}`);
    else if (!tokens.includes(token)) tokens.push(token);
  }
  return { tokens, problems };
}
