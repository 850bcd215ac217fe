import { useId } from "react";

/**
 * Up to this many versions are offered as a list; a longer history gets a number input, since a select of a
 * hundred thousand options is no help to anyone and costs the browser as much.
 */
const listedVersions = 1000n;

/** Chooses one version of a document, from 1 to `latest`, newest first. */
export function VersionPicker(props: {
  label: string;
  latest: bigint;
  value: bigint;
  onChange: (version: bigint) => void;
  /** What the latest version is, e.g. "deleted": said in its option. */
  latestNote?: string;
}) {
  const { latest, value } = props;
  const id = useId();
  if (latest > listedVersions) {
    return (
      <div className="field">
        <label htmlFor={id}>{props.label}</label>
        <input
          id={id}
          type="number"
          min={1}
          max={latest.toString()}
          step={1}
          value={value.toString()}
          onChange={(e) => {
            // Only whole numbers in range: an input half typed ("", "1e") changes nothing.
            if (!/^\d+$/.test(e.target.value)) return;
            const version = BigInt(e.target.value);
            if (version >= 1n && version <= latest) props.onChange(version);
          }}
        />
      </div>
    );
  }
  const versions = Array.from({ length: Number(latest) }, (_, i) => latest - BigInt(i));
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={value.toString()} onChange={(e) => props.onChange(BigInt(e.target.value))}>
        {versions.map((version) => (
          <option key={version.toString()} value={version.toString()}>
            {version.toString()}
            {version === latest ? ` (latest${props.latestNote === undefined ? "" : `, ${props.latestNote}`})` : ""}
          </option>
        ))}
      </select>
    </div>
  );
}
