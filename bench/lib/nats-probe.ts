import { connect } from "node:net";

/**
 * Why the NATS server at `url` cannot be benchmarked, or undefined when it greets us with JetStream on. Reads the
 * server's INFO line over plain TCP: a NATS client would retry an absent server forever, keeping the run alive.
 */
export function natsProblem(url: string, timeoutMs = 2000): Promise<string | undefined> {
  const { hostname, port } = new URL(url.split(",")[0]!.trim());
  return new Promise((resolve) => {
    const socket = connect(Number(port || 4222), hostname || "127.0.0.1");
    let greeting = "";
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done(`no INFO within ${timeoutMs} ms`));
    socket.on("error", (error) => done(error.message));
    socket.on("data", (chunk) => {
      greeting += chunk.toString();
      if (!greeting.includes("\n")) return;
      done(/"jetstream":true/.test(greeting) ? undefined : "the server has no JetStream (start it with -js)");
    });
  });
}
