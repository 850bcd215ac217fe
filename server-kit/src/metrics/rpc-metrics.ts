import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import { codeName, outcomeCode, whenStreamEnds } from "../rpc-outcome.js";
import {
  CellCounter,
  CellGauge,
  CellHistogram,
  type CounterCell,
  type GaugeCell,
  type HistogramCell,
} from "./cell-metrics.js";

/**
 * Upper bounds of `eskit_rpc_duration_seconds`: 0.5 ms (a cached read) to 10 s (a deadline); a server stream lasts as
 * long as its subscriber stays, so streams mostly land in +Inf.
 */
export const rpcDurationBuckets: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The series of one method, looked up once per call by the method's descriptor (no key to build). */
interface MethodSeries {
  readonly labels: { readonly service: string; readonly method: string };
  /** By Connect code; index 0 is "ok" (Connect has no code 0). Created on first use. */
  readonly calls: Array<CounterCell | undefined>;
  readonly duration: HistogramCell;
  open: GaugeCell | undefined;
}

/**
 * Server interceptor recording every RPC in `registry`:
 * - `eskit_rpc_requests_total{service,method,code}` (counter): calls by outcome, `code` = "ok" or the Connect code
 *   as on the wire ("not_found");
 * - `eskit_rpc_duration_seconds{service,method}` (histogram): time to the response, or for a server stream its whole
 *   life;
 * - `eskit_rpc_streams_open{service,method}` (gauge): server streams running now.
 * A server stream is counted when it ends, with the code its client sees (a canceled subscription is "canceled", one
 * ended by shutdown "unavailable"). Put it before interceptors that translate errors, so it records the final code.
 * Per call it costs two clock reads and a map lookup; call it once per registry (the names are registered).
 */
export function rpcMetricsInterceptor(registry: Registry): Interceptor {
  const requests = new CellCounter({
    name: "eskit_rpc_requests_total",
    help: "RPCs handled, by service, method and outcome code (ok or the Connect error code); streams count when they end.",
    labelNames: ["service", "method", "code"],
    registry,
  });
  const duration = new CellHistogram({
    name: "eskit_rpc_duration_seconds",
    help: "Time from an RPC's arrival to its response; for a server stream, until the stream ended.",
    labelNames: ["service", "method"],
    buckets: rpcDurationBuckets,
    registry,
  });
  const streams = new CellGauge({
    name: "eskit_rpc_streams_open",
    help: "Server streams (e.g. LogsPoll subscriptions) open now, by service and method.",
    labelNames: ["service", "method"],
    registry,
  });
  const byMethod = new Map<DescMethod, MethodSeries>();
  const seriesOf = (method: DescMethod): MethodSeries => {
    let series = byMethod.get(method);
    if (series === undefined) {
      const labels = { service: method.parent.typeName, method: method.name };
      series = { labels, calls: [], duration: duration.cell(labels), open: undefined };
      byMethod.set(method, series);
    }
    return series;
  };
  const record = (series: MethodSeries, code: number | undefined, started: number): void => {
    const index = code ?? 0;
    let calls = series.calls[index];
    if (calls === undefined) {
      calls = requests.cell({ ...series.labels, code: codeName(code) });
      series.calls[index] = calls;
    }
    calls.inc();
    series.duration.observe((performance.now() - started) / 1000);
  };

  return (next) => async (req) => {
    const started = performance.now();
    const series = seriesOf(req.method);
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      record(series, outcomeCode(err, req.signal, true), started);
      throw err;
    }
    if (!res.stream) {
      record(series, undefined, started);
      return res;
    }
    const open = (series.open ??= streams.cell(series.labels));
    const message = whenStreamEnds(
      res.message,
      req.signal,
      (code) => {
        open.dec();
        record(series, code, started);
      },
      () => open.inc(),
    );
    return { ...res, message };
  };
}
