import type { Settings } from "../connection/settings.js";

/** The fields of the Access form that can be wrong, each with why. */
export type SettingsProblems = Partial<Record<"eventStoreUrl" | "crudStoreUrl", string>>;

/** Why `text` is not a service URL the browser can call, or undefined when it is one. */
export function serviceUrlProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return "a URL is needed, e.g. http://127.0.0.1:8081";
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return "not a URL: write it whole, e.g. http://127.0.0.1:8081";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "the browser calls services over http: or https:";
  if (url.search !== "" || url.hash !== "") return "a service URL has no query or fragment";
  return undefined;
}

/** What is wrong with the form's settings; an empty object when nothing is. */
export function settingsProblems(draft: Settings): SettingsProblems {
  const problems: SettingsProblems = {};
  const eventStore = serviceUrlProblem(draft.eventStoreUrl);
  const crudStore = serviceUrlProblem(draft.crudStoreUrl);
  if (eventStore !== undefined) problems.eventStoreUrl = eventStore;
  if (crudStore !== undefined) problems.crudStoreUrl = crudStore;
  return problems;
}

/**
 * The settings the form's fields describe, tidied: URLs trimmed and without a trailing slash (the clients add the
 * method's path), the token trimmed, since a pasted token often brings a newline that the service would refuse.
 */
export function settingsOfDraft(draft: Settings): Settings {
  const url = (text: string) => text.trim().replace(/\/+$/, "");
  return {
    eventStoreUrl: url(draft.eventStoreUrl),
    crudStoreUrl: url(draft.crudStoreUrl),
    protocol: draft.protocol,
    token: draft.token.trim(),
  };
}
