import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as Status,
  HealthListResponseSchema,
} from "@eskit/gen/grpc/health/v1/health_pb.js";
import { untilAborted } from "./until-aborted.js";

/** Options of {@link healthService}. */
export interface HealthServiceOptions {
  /** Fully-qualified names of the services this server hosts; "" (the whole server) is always known. */
  services: readonly string[];
  /** How often Watch re-runs the check; defaults to 1 s. */
  watchIntervalMs?: number;
}

/**
 * The standard gRPC health protocol (grpc.health.v1.Health), so Kubernetes
 * gRPC probes, grpc_health_probe and load balancers can check the store
 * without knowing its API. Every service shares one check (the database).
 * Register with `router.service(Health, healthService(check, opts))`.
 */
export function healthService(check: () => Promise<boolean>, opts: HealthServiceOptions): ServiceImpl<typeof Health> {
  const known = new Set(["", ...opts.services]);
  const intervalMs = opts.watchIntervalMs ?? 1000;

  const statusNow = async (signal: AbortSignal): Promise<Status> => {
    try {
      return (await untilAborted(check(), signal, abortError)) ? Status.SERVING : Status.NOT_SERVING;
    } catch (err) {
      if (signal.aborted) throw err;
      return Status.NOT_SERVING; // a failing check means "not serving", not a failed RPC
    }
  };
  const response = (status: Status): HealthCheckResponse => create(HealthCheckResponseSchema, { status });

  return {
    async check(req, ctx) {
      if (!known.has(req.service)) {
        throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      }
      return response(await statusNow(ctx.signal));
    },

    async list(_req, ctx) {
      const status = await statusNow(ctx.signal);
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const name of known) statuses[name] = response(status);
      return create(HealthListResponseSchema, { statuses });
    },

    // Per the spec an unknown service is not an error here: it reports
    // SERVICE_UNKNOWN and keeps watching, since the service may appear later.
    async *watch(req, ctx: HandlerContext) {
      let last: Status | undefined;
      for (;;) {
        const status = known.has(req.service) ? await statusNow(ctx.signal) : Status.SERVICE_UNKNOWN;
        if (status !== last) {
          last = status;
          yield response(status);
        }
        await sleep(intervalMs, ctx.signal);
      }
    },
  };
}

function abortError(signal: AbortSignal): ConnectError {
  return ConnectError.from(signal.reason ?? new ConnectError("canceled", Code.Canceled));
}

/** Wait `ms`, or reject at once (clearing the timer) when the signal fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
