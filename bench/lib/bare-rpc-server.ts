import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http2";
import { fileURLToPath } from "node:url";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "@eskit/gen/grpc/health/v1/health_pb.js";
import type { BenchServer } from "./event-store-server.js";
import { isMain } from "./is-main.js";

/**
 * A connect-node server answering the gRPC health check with nothing else (no ESKIT code, no interceptors, no
 * database), in its own process like the services. A call to it costs what connect-es's server and Node's HTTP/2 cost
 * between two processes on this machine: the floor of the services before their RPC lane, which now answers below it.
 */
export async function startBareRpcServer(): Promise<BenchServer> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
  const port = Number(chunk.toString().trim());
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

if (isMain(import.meta.url)) {
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(Health, { check: () => ({ status: HealthCheckResponse_ServingStatus.SERVING }) }),
  });
  const server = createServer(handler);
  // As ESKIT's servers do (server-kit's http-server.ts): without it, Nagle's algorithm holds small answers back.
  server.on("connection", (socket: import("node:net").Socket) => socket.setNoDelay(true));
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.stdout.write(`${typeof address === "object" && address !== null ? address.port : 0}\n`);
  });
  process.on("SIGTERM", () => process.exit(0));
}
