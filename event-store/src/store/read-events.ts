import type { StoredEvent } from "../domain/event.js";
import type { Database } from "../storage/database.js";
import { type EventRowText, eventRowTextColumns, fromEventRowText } from "../storage/event-row-text.js";

// 0 means unbounded on either side; the (originator_id, version) unique index serves the range.
const readEventsSql = `
  select ${eventRowTextColumns} from events e
  where e.originator_id = $1 and e.version >= $2 and ($3::bigint = 0 or e.version <= $3::bigint)
  order by e.version`;

/** One originator's events in version order, `fromVersion`..`toVersion` inclusive (0 = unbounded). */
export async function readEvents(
  database: Database,
  originatorId: string,
  fromVersion: bigint,
  toVersion: bigint,
): Promise<StoredEvent[]> {
  const rows = await database.query<EventRowText>(readEventsSql, [
    originatorId,
    fromVersion.toString(),
    toVersion.toString(),
  ]);
  return rows.map(fromEventRowText);
}
