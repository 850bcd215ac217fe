import type { Access } from "../connection/access.js";

/** One service's access as the Access page words it: a short state, a tone for its badge, and why. */
export interface AccessSummary {
  /** In words, so the state never rests on colour alone. */
  readonly label: string;
  readonly tone: "ok" | "warn" | "danger" | "neutral";
  readonly detail: string;
}

/**
 * Words for what the token may do at one service (see access.ts): a read token disables the console's writes, and
 * the page must say why; a refusal shows the service's own message; an unreachable service its code and message.
 */
export function summarizeAccess(access: Access | undefined): AccessSummary {
  if (access === undefined) return { label: "checking", tone: "neutral", detail: "asking the service…" };
  switch (access.kind) {
    case "write":
      return { label: "read and write", tone: "ok", detail: "every call is allowed" };
    case "read":
      return { label: "read-only", tone: "warn", detail: `writes disabled: ${access.reason}` };
    case "refused":
      return { label: "refused", tone: "danger", detail: access.reason };
    case "unreachable":
      return { label: "unavailable", tone: "danger", detail: access.reason };
  }
}
