import type { EnvSpec } from "../env-config.js";

/** Limits every server applies to the calls it serves, whatever the service. */
export interface LimitsConfig {
  /** Most server streams open at once; one more is refused with `resource_exhausted`. */
  maxStreams: number;
  /** Deadline of a unary call whose client set none, in ms; 0 = none. */
  defaultDeadlineMs: number;
}

/** The variables of {@link LimitsConfig}, the same in every service. */
export const limitsSpecs = {
  maxStreams: {
    env: "ESKIT_MAX_STREAMS",
    kind: "int",
    min: 1,
    max: 1000000,
    default: 1000,
    meaning:
      "Most server streams (LogsPoll, Health/Watch) open at once in the process; one more is refused at once with resource_exhausted",
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
} as const satisfies Record<keyof LimitsConfig, EnvSpec>;

/** The defaults of {@link limitsSpecs}, for servers started without configuration (tests, tools). */
export const defaultLimits: LimitsConfig = {
  maxStreams: limitsSpecs.maxStreams.default,
  defaultDeadlineMs: limitsSpecs.defaultDeadlineMs.default,
};
