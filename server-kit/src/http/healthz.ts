import { sendJson, type NodeHandler } from "./node-types.js";

/**
 * `GET /healthz` for probes that speak plain HTTP (Kubernetes httpGet, load
 * balancers, curl): 200 `{"status":"ok"}` when `check` resolves true within
 * `timeoutMs`, else 503 `{"status":"unavailable"}`. A hung database must not
 * hang the probe, hence the timeout.
 */
export function healthzHandler(check: () => Promise<boolean>, timeoutMs = 2000): NodeHandler {
  return (_req, res) => {
    void probe(check, timeoutMs).then((ok) => {
      if (res.writableEnded || res.destroyed) return;
      sendJson(res, ok ? 200 : 503, { status: ok ? "ok" : "unavailable" });
    });
  };
}

/** True only when `check` resolves true in time; errors and timeouts are false. */
async function probe(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return (await Promise.race([check().then((ok) => ok === true), timeout])) === true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
