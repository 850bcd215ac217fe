import { SingleBar } from "cli-progress";
import type { Io } from "./output.js";

/** How far a long command has come, shown on stderr. */
export interface Progress {
  /** `position` of `total` done (the bar), `count` items so far (the rate). */
  update(position: number, count: number): void;
  /** The last line: how many, how long, how fast. */
  stop(): void;
}

/**
 * A progress bar with rate and ETA on stderr when it is a terminal; otherwise (a log file, CI) a plain line every
 * few seconds and at the end, so that the output stays readable.
 */
export function progressOf(io: Io, verb: string, total: number, unit = "events"): Progress {
  const started = performance.now();
  let count = 0;
  const rate = () => Math.round(count / Math.max((performance.now() - started) / 1000, 0.001));
  const summary = () =>
    `${verb} ${count.toLocaleString("en")} ${count === 1 ? unit.replace(/s$/u, "") : unit} in ${((performance.now() - started) / 1000).toFixed(2)} s` +
    ` (${rate().toLocaleString("en")}/s)`;
  if (io.stderr.isTTY === true) {
    const bar = new SingleBar(
      {
        format: `${verb} {bar} {percentage}% | {count} ${unit} | {speed}/s | ETA {eta_formatted}`,
        stream: io.stderr as NodeJS.WriteStream,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      undefined,
    );
    bar.start(Math.max(total, 1), 0, { count: "0", speed: "0" });
    return {
      update(position, done) {
        count = done;
        bar.update(Math.min(position, Math.max(total, 1)), {
          count: done.toLocaleString("en"),
          speed: rate().toLocaleString("en"),
        });
      },
      stop() {
        bar.stop();
        io.stderr.write(`${summary()}\n`);
      },
    };
  }
  let lastLine = started;
  return {
    update(_position, done) {
      count = done;
      const now = performance.now();
      if (now - lastLine < 5000) return;
      lastLine = now;
      io.stderr.write(`${summary()}\n`);
    },
    stop() {
      io.stderr.write(`${summary()}\n`);
    },
  };
}
