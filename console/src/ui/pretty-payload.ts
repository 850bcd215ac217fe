/**
 * A payload as a person reads it: JSON indented by two spaces, anything else (a payload need not be JSON) as it is.
 * Shown as text, never as HTML, so a payload cannot inject anything into the page.
 */
export function prettyPayload(text: string): string {
  if (text === "") return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
