/**
 * Why the writes next to it are off (a read token, an unreachable service, the access check still running), shown
 * as text beside the disabled buttons, which point at it with `aria-describedby`, so that a disabled button is never
 * a mystery, to a sighted person or to a screen reader.
 */
export function BlockedReason(props: { id: string; reason: string | undefined }) {
  if (props.reason === undefined) return null;
  return (
    <p id={props.id} className="blocked-reason">
      Writes are off: {props.reason}
    </p>
  );
}
