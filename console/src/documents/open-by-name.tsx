import { useId, useState } from "react";
import { useLocation } from "wouter";

/**
 * A one-field form that opens a view by name: a type that is not registered (lists show registered types only), or
 * a deleted document (lists show live documents only), which can still be read.
 */
export function OpenByName(props: { label: string; action: string; path: (name: string) => string }) {
  const [, navigate] = useLocation();
  const [name, setName] = useState("");
  const inputId = useId();
  return (
    <form
      className="toolbar open-by-name"
      aria-label={props.action}
      onSubmit={(e) => {
        e.preventDefault();
        if (name !== "") navigate(props.path(name));
      }}
    >
      <div className="field">
        <label htmlFor={inputId}>{props.label}</label>
        <input id={inputId} type="text" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <button type="submit" className="secondary" disabled={name === ""}>
        {props.action}
      </button>
    </form>
  );
}
