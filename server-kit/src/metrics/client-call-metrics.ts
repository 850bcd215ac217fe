import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import { codeName, whenStreamEnds } from "../rpc-outcome.js";
import { CellCounter, type CounterCell } from "./cell-metrics.js";

/** Name and help of the counter {@link clientCallsInterceptor} registers. */
export interface ClientCallsMetric {
  /** e.g. "eskit_crud_event_store_calls_total" (a counter: end it in `_total`). */
  readonly name: string;
  readonly help: string;
}

/**
 * Client interceptor counting the calls a service makes to another one, by method (`Append`, `Check`) and outcome
 * code ("ok", "unavailable", "deadline_exceeded", ...): what a dependency answered, seen from the caller. Add it to
 * the transport of the client; one counter per registry and name.
 */
export function clientCallsInterceptor(registry: Registry, metric: ClientCallsMetric): Interceptor {
  const calls = new CellCounter({ ...metric, labelNames: ["method", "code"], registry });
  // By method, then by Connect code (index 0 = ok).
  const cells = new Map<DescMethod, Array<CounterCell | undefined>>();
  const count = (method: DescMethod, code: number | undefined): void => {
    let byCode = cells.get(method);
    if (byCode === undefined) {
      byCode = [];
      cells.set(method, byCode);
    }
    (byCode[code ?? 0] ??= calls.cell({ method: method.name, code: codeName(code) })).inc();
  };
  return (next) => async (req) => {
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      count(req.method, ConnectError.from(err).code);
      throw err;
    }
    if (!res.stream) {
      count(req.method, undefined);
      return res;
    }
    return { ...res, message: whenStreamEnds(res.message, req.signal, (code) => count(req.method, code)) };
  };
}
