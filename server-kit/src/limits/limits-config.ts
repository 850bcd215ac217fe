import type { ConfigOf, EnvSpec } from "../env-config.js";

/** The variables of {@link LimitsConfig}, the same in every service. */
export const limitsSpecs = {
  maxStreams: {
    env: "ESKIT_MAX_STREAMS",
    kind: "int",
    min: 1,
    max: 1000000,
    default: 1000,
    meaning:
      "Most streams (LogsPoll, AppendStream, Health/Watch) open at once in the process; one more is refused at once with resource_exhausted",
  },
  defaultDeadlineMs: {
    env: "ESKIT_DEFAULT_DEADLINE_MS",
    kind: "int",
    min: 0,
    max: 3600000,
    default: 30000,
    meaning:
      "Deadline of a unary call whose client set none, in ms (past it → deadline_exceeded); 0 = none; streams have none",
  },
  headersTimeoutMs: {
    env: "ESKIT_HEADERS_TIMEOUT_MS",
    kind: "int",
    min: 1000,
    max: 600000,
    default: 10000,
    meaning: "Time a client has to send a request's headers over HTTP/1.1, in ms; past it the connection is closed",
  },
  requestBodyTimeoutMs: {
    env: "ESKIT_REQUEST_BODY_TIMEOUT_MS",
    kind: "int",
    min: 100,
    max: 3600000,
    default: 30000,
    meaning:
      "Time a client has to send a request's body once its headers arrived, in ms (past it → deadline_exceeded); a stream's answer is not limited by it, and in a stream of requests (the Event Store's AppendStream) it bounds each message on its own, timed only while the server owes no answer (a write under way stops the clock)",
  },
} as const satisfies Record<string, EnvSpec>;

/**
 * Limits every server applies to the calls it serves, whatever the service: open server streams, the default deadline
 * of unary calls, and how long a client may take to send a request's headers and body (in ms).
 */
export type LimitsConfig = ConfigOf<typeof limitsSpecs>;

/** The defaults of {@link limitsSpecs}, for servers started without configuration (tests, tools). */
export const defaultLimits: LimitsConfig = {
  maxStreams: limitsSpecs.maxStreams.default,
  defaultDeadlineMs: limitsSpecs.defaultDeadlineMs.default,
  headersTimeoutMs: limitsSpecs.headersTimeoutMs.default,
  requestBodyTimeoutMs: limitsSpecs.requestBodyTimeoutMs.default,
};
