import type { ConfigOf, EnvSpec, SecretSpec } from "../env-config.js";

/**
 * The variables of {@link AuthConfig}, the same in every service (so one environment configures a whole system). A
 * service without protected RPCs may reword `meaning`.
 */
export const authSpecs = {
  authTokens: {
    env: "ESKIT_AUTH_TOKENS",
    kind: "tokens",
    fileEnv: "ESKIT_AUTH_TOKENS_FILE",
    default: undefined,
    meaning:
      "Comma-separated bearer tokens that may call every RPC (16+ characters each); when this or ESKIT_READ_TOKENS is set, every RPC but health needs a token (see Access control)",
    fileMeaning:
      "A file with the tokens of ESKIT_AUTH_TOKENS instead, one a line (# starts a comment line); read at start-up",
  },
  readTokens: {
    env: "ESKIT_READ_TOKENS",
    kind: "tokens",
    fileEnv: "ESKIT_READ_TOKENS_FILE",
    default: undefined,
    meaning: "Comma-separated bearer tokens that may call the reads only; writes answer permission_denied",
    fileMeaning:
      "A file with the tokens of ESKIT_READ_TOKENS instead, one a line (# starts a comment line); read at start-up",
  },
  metricsAuth: {
    env: "ESKIT_METRICS_AUTH",
    kind: "enum",
    values: ["open", "token"],
    default: "open",
    meaning: "open: GET /metrics needs no token; token: it needs a full or read token (Authorization: Bearer)",
  },
} as const satisfies Record<string, EnvSpec>;

/**
 * The access control of one server, as configured: `authTokens` may call every RPC (with `readTokens` empty too,
 * access control is off), `readTokens` the reads only; `metricsAuth` says whether `GET /metrics` needs a token.
 */
export type AuthConfig = ConfigOf<typeof authSpecs>;

/** A secret spec for a token this service sends to another one (`EVENT_STORE_TOKEN`, ...). */
export function peerTokenSpec(env: string, meaning: string): SecretSpec & { kind: "token" } {
  return {
    env,
    kind: "token",
    fileEnv: `${env}_FILE`,
    default: undefined,
    meaning,
    fileMeaning: `A file holding the token of ${env} instead (one line; # starts a comment line); read at start-up`,
  };
}

/** Problems that involve several of the variables of {@link AuthConfig}; for `loadEnv`'s `check`. */
export function checkAuthConfig(config: AuthConfig, problems: string[]): void {
  if (config.authTokens.some((token) => config.readTokens.includes(token))) {
    problems.push("a token is in both ESKIT_AUTH_TOKENS and ESKIT_READ_TOKENS: give each token one role");
  }
  if (config.metricsAuth === "token" && config.authTokens.length + config.readTokens.length === 0) {
    problems.push("ESKIT_METRICS_AUTH=token needs tokens: set ESKIT_AUTH_TOKENS or ESKIT_READ_TOKENS (or their _FILE)");
  }
}
