import type { WebProtocol } from "@eskit/client";

/** Where the console's calls go and with what: chosen on the Access page, defaulted from `config.json`. */
export interface Settings {
  /** e.g. `http://127.0.0.1:8081` */
  readonly eventStoreUrl: string;
  /** e.g. `http://127.0.0.1:8082` */
  readonly crudStoreUrl: string;
  readonly protocol: WebProtocol;
  /** Bearer token, `""` for none. Kept in this tab's sessionStorage only, never in localStorage. */
  readonly token: string;
}

/** What the server that serves the console says about where the services are (`config.json`). */
export interface ServedConfig {
  readonly eventStoreUrl?: string;
  readonly crudStoreUrl?: string;
}

const storageKey = "eskit.console.settings";

/** The default when nothing was served: the services on this page's host, at `make run`'s ports. */
export function defaultSettings(location: { protocol: string; hostname: string }, served: ServedConfig = {}): Settings {
  const host = location.hostname.includes(":") ? `[${location.hostname}]` : location.hostname || "127.0.0.1";
  const scheme = location.protocol === "https:" ? "https:" : "http:";
  return {
    eventStoreUrl: served.eventStoreUrl || `${scheme}//${host}:8081`,
    crudStoreUrl: served.crudStoreUrl || `${scheme}//${host}:8082`,
    protocol: "grpc-web",
    token: "",
  };
}

/** `config.json` next to the page, or nothing when it is missing or not JSON (the console then guesses). */
export async function fetchServedConfig(fetcher: typeof fetch = fetch): Promise<ServedConfig> {
  try {
    const response = await fetcher("./config.json", { cache: "no-store" });
    if (!response.ok) return {};
    const body: unknown = await response.json();
    if (typeof body !== "object" || body === null) return {};
    const { eventStoreUrl, crudStoreUrl } = body as Record<string, unknown>;
    return {
      ...(typeof eventStoreUrl === "string" ? { eventStoreUrl } : {}),
      ...(typeof crudStoreUrl === "string" ? { crudStoreUrl } : {}),
    };
  } catch {
    return {};
  }
}

/** Settings saved earlier in this tab over `fallback`, field by field; anything malformed is ignored. */
export function loadSettings(storage: Pick<Storage, "getItem">, fallback: Settings): Settings {
  try {
    const saved = JSON.parse(storage.getItem(storageKey) ?? "{}") as Partial<Record<keyof Settings, unknown>>;
    const text = (value: unknown, otherwise: string) => (typeof value === "string" ? value : otherwise);
    return {
      eventStoreUrl: text(saved.eventStoreUrl, fallback.eventStoreUrl),
      crudStoreUrl: text(saved.crudStoreUrl, fallback.crudStoreUrl),
      protocol: saved.protocol === "connect" || saved.protocol === "grpc-web" ? saved.protocol : fallback.protocol,
      token: text(saved.token, fallback.token),
    };
  } catch {
    return fallback;
  }
}

/** Keeps `settings` for this tab (sessionStorage: closing the tab forgets the token). */
export function saveSettings(storage: Pick<Storage, "setItem">, settings: Settings): void {
  storage.setItem(storageKey, JSON.stringify(settings));
}
