import { createHash, timingSafeEqual } from "node:crypto";

/** What a token may do: `full` calls every RPC, `read` only the reads (see `rpc-access.ts`). */
export type Grant = "full" | "read";

/** Why a request carries no usable token; each has its own message, none repeats what was sent. */
export type Refusal = "missing" | "malformed" | "unknown";

/** The outcome of {@link TokenVerifier.verify}. */
export type Verdict = { ok: true; grant: Grant } | { ok: false; refusal: Refusal };

/** The configured tokens of a server. */
export interface TokenSets {
  /** Tokens that may call every RPC. */
  readonly full: readonly string[];
  /** Tokens that may call the reads only. */
  readonly read: readonly string[];
}

const bearer = /^Bearer +([^\s]+) *$/iu;

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Checks `Authorization: Bearer <token>` headers against the configured tokens in constant time: only SHA-256
 * digests are kept and compared (equal lengths, so `timingSafeEqual` applies and a token's length does not show in
 * the timing), and every configured token is compared, so the time does not say which one matched or how many there
 * are before it. The tokens themselves are not kept.
 */
export class TokenVerifier {
  private readonly entries: ReadonlyArray<{ digest: Buffer; grant: Grant }>;

  constructor(tokens: TokenSets) {
    this.entries = [
      ...tokens.full.map((t) => ({ digest: digest(t), grant: "full" as const })),
      ...tokens.read.map((t) => ({ digest: digest(t), grant: "read" as const })),
    ];
  }

  /** Whether any token is configured; without one, access control is off. */
  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** The grant of the token in `authorization` (an `Authorization` header value), or why there is none. */
  verify(authorization: string | null | undefined): Verdict {
    if (authorization === null || authorization === undefined || authorization.trim() === "") {
      return { ok: false, refusal: "missing" };
    }
    const match = bearer.exec(authorization);
    if (match === null) return { ok: false, refusal: "malformed" };
    const presented = digest(match[1]!);
    let grant: Grant | undefined;
    for (const entry of this.entries) {
      // No early exit: the loop takes as long whichever entry matches.
      if (timingSafeEqual(presented, entry.digest) && grant === undefined) grant = entry.grant;
    }
    return grant === undefined ? { ok: false, refusal: "unknown" } : { ok: true, grant };
  }
}
