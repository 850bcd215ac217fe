/**
 * A nats-server of the test's own (JetStream on, its store in a temp dir, a free port), which the test may stop and
 * start again on the same port and store: what the machine's shared server (127.0.0.1:4222) must never be put through.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@eskit/test-kit/service-process.js";
import { natsServerPath } from "@eskit/test-kit/system-tools.js";
import { connect } from "@nats-io/transport-node";

/** A private nats-server; `url` stays the same across `stop()` and `start()`. */
export interface PrivateNats {
  readonly url: string;
  /** Starts it (again) on the same port and store dir; resolves once it answers a connection. */
  start(): Promise<void>;
  /** Ends it with `signal` (SIGTERM: a clean shutdown; SIGKILL: a crash) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its store dir. */
  remove(): Promise<void>;
  /** What the server wrote so far, across restarts (for a failure's message). */
  output(): string;
}

export async function startPrivateNats(): Promise<PrivateNats> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), "eskit-nats-"));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let output = "";

  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    child = undefined;
  };
  const start = async () => {
    await stop();
    const started = spawn(natsServerPath, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    started.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    exited = new Promise((resolve) => started.once("exit", resolve));
    child = started;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`nats-server exited with ${started.exitCode}:\n${output}`);
      try {
        const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
        await nc.close();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`nats-server did not answer at ${url}: ${String(error)}\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  await start();
  return {
    url,
    start,
    stop,
    remove: async () => {
      await stop("SIGKILL");
      await rm(storeDir, { recursive: true, force: true });
    },
    output: () => output,
  };
}
