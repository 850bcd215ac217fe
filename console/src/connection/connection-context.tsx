import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { probeAccess, type AccessReport } from "./access.js";
import { clientsFor, type Clients } from "./clients.js";
import { saveSettings, type Settings } from "./settings.js";

/** What every page uses to reach the services. */
export interface Connection {
  readonly settings: Settings;
  readonly clients: Clients;
  /** What the token may do at each service; undefined while it is being asked. */
  readonly access: AccessReport | undefined;
  /** Switches to new settings (kept for this tab) and asks again what the token may do. */
  readonly update: (settings: Settings) => void;
}

const ConnectionContext = createContext<Connection | undefined>(undefined);

/** Provides the {@link Connection} to the pages below it. */
export function ConnectionProvider(props: { initial: Settings; children: ReactNode }) {
  const [settings, setSettings] = useState(props.initial);
  const [access, setAccess] = useState<AccessReport | undefined>(undefined);
  const clients = useMemo(() => clientsFor(settings), [settings]);

  useEffect(() => {
    const abort = new AbortController();
    setAccess(undefined);
    void probeAccess(clients, abort.signal).then((report) => {
      if (!abort.signal.aborted) setAccess(report);
    });
    return () => abort.abort();
  }, [clients]);

  const update = useCallback((next: Settings) => {
    saveSettings(sessionStorage, next);
    setSettings(next);
  }, []);

  const value = useMemo(() => ({ settings, clients, access, update }), [settings, clients, access, update]);
  return <ConnectionContext.Provider value={value}>{props.children}</ConnectionContext.Provider>;
}

/** The current {@link Connection}; only inside a {@link ConnectionProvider}. */
export function useConnection(): Connection {
  const connection = useContext(ConnectionContext);
  if (connection === undefined) throw new Error("useConnection outside ConnectionProvider");
  return connection;
}

/**
 * Why writes to a service are off, or undefined when they are allowed: pages put it on their disabled buttons, so a
 * person with a read token sees why instead of a button that does nothing.
 */
export function useWriteBlocked(service: keyof AccessReport): string | undefined {
  const { access } = useConnection();
  const state = access?.[service];
  if (state === undefined) return "checking what the token may do…";
  return state.kind === "write" ? undefined : state.reason;
}
