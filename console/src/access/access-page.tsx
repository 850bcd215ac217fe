import { useState, type FormEvent } from "react";
import type { WebProtocol } from "@eskit/client";
import { useConnection } from "../connection/connection-context.js";
import type { AccessReport } from "../connection/access.js";
import type { Settings } from "../connection/settings.js";
import { settingsOfDraft, settingsProblems, type SettingsProblems } from "./access-form.js";
import { summarizeAccess } from "./access-summary.js";
import "./access.css";

const protocols: ReadonlyArray<{ value: WebProtocol; label: string; hint: string }> = [
  { value: "grpc-web", label: "gRPC-Web", hint: "protobuf binary, what every gRPC-Web server speaks" },
  { value: "connect", label: "Connect", hint: "JSON, readable in the browser's network tab" },
];

const services: ReadonlyArray<{ key: keyof AccessReport; name: string }> = [
  { key: "eventStore", name: "Event Store" },
  { key: "crudStore", name: "Crud Store" },
];

function UrlField(props: {
  id: string;
  label: string;
  value: string;
  problem: string | undefined;
  onChange: (value: string) => void;
}) {
  return (
    <label className="field">
      <span>{props.label}</span>
      <input
        type="url"
        value={props.value}
        spellCheck={false}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={props.problem !== undefined}
        aria-describedby={props.problem === undefined ? undefined : `${props.id}-problem`}
      />
      {props.problem !== undefined && (
        <span id={`${props.id}-problem`} className="field-error">
          {props.problem}
        </span>
      )}
    </label>
  );
}

/**
 * The Access page: where the console's calls go (each service's URL, the protocol) and with which token, kept for
 * this tab only; then what that token may do at each service, with the reason when it may not do everything.
 */
export function AccessPage() {
  const { settings, access, update } = useConnection();
  const [draft, setDraft] = useState<Settings>(settings);
  const [problems, setProblems] = useState<SettingsProblems>({});
  const edit = (change: Partial<Settings>) => setDraft((d) => ({ ...d, ...change }));

  const onApply = (event: FormEvent) => {
    event.preventDefault();
    const found = settingsProblems(draft);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    const next = settingsOfDraft(draft);
    setDraft(next);
    update(next);
  };

  return (
    <>
      <h1>Access</h1>
      <form className="panel access-form" onSubmit={onApply} aria-label="Connection settings" noValidate>
        <UrlField
          id="event-store-url"
          label="Event Store URL"
          value={draft.eventStoreUrl}
          problem={problems.eventStoreUrl}
          onChange={(eventStoreUrl) => edit({ eventStoreUrl })}
        />
        <UrlField
          id="crud-store-url"
          label="Crud Store URL"
          value={draft.crudStoreUrl}
          problem={problems.crudStoreUrl}
          onChange={(crudStoreUrl) => edit({ crudStoreUrl })}
        />
        <fieldset className="access-protocol">
          <legend>Protocol</legend>
          {protocols.map((p) => (
            <label key={p.value}>
              <input
                type="radio"
                name="protocol"
                value={p.value}
                checked={draft.protocol === p.value}
                onChange={() => edit({ protocol: p.value })}
              />{" "}
              {p.label} <span className="muted">({p.hint})</span>
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="access-token">Token</label>
          <input
            id="access-token"
            type="password"
            value={draft.token}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => edit({ token: e.target.value })}
            aria-describedby="token-hint"
          />
          <span id="token-hint" className="muted">
            Kept for this tab only (sessionStorage): closing the tab forgets it. Empty: no token.
          </span>
        </div>
        <div>
          <button type="submit">Apply</button>
        </div>
      </form>
      <h2 id="access-heading">What the token may do</h2>
      <table className="data access-table" aria-labelledby="access-heading">
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">URL</th>
            <th scope="col">Access</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody aria-live="polite">
          {services.map((service) => {
            const summary = summarizeAccess(access?.[service.key]);
            return (
              <tr key={service.key}>
                <th scope="row">{service.name}</th>
                <td className="mono">{settings[`${service.key}Url`]}</td>
                <td>
                  <span className={`badge ${summary.tone}`}>{summary.label}</span>
                </td>
                <td className="access-detail">{summary.detail}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
