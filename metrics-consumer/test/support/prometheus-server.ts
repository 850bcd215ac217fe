/**
 * A real Prometheus server (the Debian package's /usr/bin/prometheus) for integration tests: it scrapes the
 * targets given every second, keeps its data in a temporary directory, and answers the HTTP query API.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@eskit/test-kit/event-store.js";

/** Where the Prometheus binary is looked for: `PROMETHEUS`, else the Debian package's path. */
export const prometheusPath = process.env["PROMETHEUS"] || "/usr/bin/prometheus";

/** A result of an instant query: one series. */
export interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** A running Prometheus. */
export interface PrometheusServer {
  readonly url: string;
  /** An instant query (`GET /api/v1/query`); throws with Prometheus' error when the query fails. */
  query(promql: string): Promise<{ resultType: string; result: VectorSample[] }>;
  stop(): Promise<void>;
}

/**
 * Starts Prometheus scraping `targets` ("host:port", one job each) every second, and resolves once it is ready.
 * A missing binary is an error, never a skip: CI installs the Debian package `prometheus`.
 */
export async function startPrometheus(targets: Record<string, string>): Promise<PrometheusServer> {
  if (!existsSync(prometheusPath)) {
    throw new Error(
      `Prometheus is not installed at ${prometheusPath}: apt-get install prometheus (CI's .ci/run does), or set PROMETHEUS`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "eskit-prometheus-"));
  const config = [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "  evaluation_interval: 1s",
    "scrape_configs:",
    ...Object.entries(targets).flatMap(([job, target]) => [
      `  - job_name: ${JSON.stringify(job)}`,
      "    static_configs:",
      `      - targets: [${JSON.stringify(target)}]`,
    ]),
  ].join("\n");
  await writeFile(join(dir, "prometheus.yml"), `${config}\n`);
  const port = await freePort();
  const child = spawn(
    prometheusPath,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-lifecycle",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let ended = false;
  void exited.then(() => (ended = true));
  const stop = async () => {
    if (!ended) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (ended) throw new Error(`prometheus exited before it was ready:\n${stderr}`);
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`prometheus was not ready within 30 s:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`, {
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data: { resultType: string; result: VectorSample[] };
      };
      if (body.status !== "success")
        throw new Error(`query ${JSON.stringify(promql)} failed: ${body.error ?? response.status}`);
      return body.data;
    },
    stop,
  };
}
