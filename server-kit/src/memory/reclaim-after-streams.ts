import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { loadMallocTrim } from "./malloc-trim.js";

/** Options of {@link streamEndReclaimer}. */
export interface ReclaimOptions {
  /** Collect once at least this many streams ended since the last collection. */
  readonly minEnded: number;
  /** ... and no stream ended for this long (the crowd has left), in ms. */
  readonly quietMs: number;
  /** At most one collection per this long, in ms. */
  readonly minIntervalMs: number;
  /** Told of each collection (for the log). */
  readonly onCollected?: (ended: number, ms: number) => void;
  /**
   * Told of each trim of the C heap after a collection: the resident set size before and after it, in bytes, and the
   * time it took. Not called where there is nothing to trim with (see {@link loadMallocTrim}).
   */
  readonly onTrimmed?: (rssBefore: number, rssAfter: number, ms: number) => void;
}

const secondCollectionMs = 3000;
type Gc = (options?: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;
let gc: Gc | undefined;

/**
 * Whether V8's `gc()` takes options (V8 12 and later: Node 22+). With `flavor: "last-resort"` it collects all it
 * can and gives back the pages it freed, the young generation's included (on Node 24 that space alone grows to
 * 128 MiB under load, and a plain full collection keeps it). V8 11 (Node 20) does nothing at all when given options.
 */
const gcTakesOptions = Number(process.versions.v8.split(".", 1)[0]) >= 12;

/** V8's most thorough collection this runtime offers, without starting node with `--expose-gc`. */
function fullCollection(): () => void {
  if (gc === undefined) {
    const exposed = (globalThis as { gc?: Gc }).gc;
    if (exposed !== undefined) gc = exposed;
    else {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as Gc;
    }
  }
  const collect = gc;
  return gcTakesOptions ? () => collect({ type: "major", execution: "sync", flavor: "last-resort" }) : () => collect();
}

/**
 * Returns the function to call whenever a server stream ends. When a crowd of streams ends (many clients leaving at
 * once), it runs one full garbage collection after they have gone, so the memory they held (their buffered messages,
 * most of it outside V8's heap) returns to the system within seconds. Without it that memory is garbage but stays:
 * V8 collects when allocation asks for it, and a server whose clients just left allocates almost nothing. Then it
 * trims the C heap ({@link loadMallocTrim}): what the collection freed there stays resident otherwise.
 */
export function streamEndReclaimer(options: ReclaimOptions): () => void {
  let ended = 0;
  let lastCollection = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const run = (): void => {
    timer = undefined;
    const wait = lastCollection + options.minIntervalMs - performance.now();
    if (wait > 0) {
      timer = setTimeout(run, wait).unref();
      return;
    }
    const count = ended;
    ended = 0;
    const started = performance.now();
    fullCollection()();
    lastCollection = performance.now();
    options.onCollected?.(count, lastCollection - started);
    // Buffers found dead are freed by a background sweep after the collection, and heap pages emptied by it are
    // given back by the next one: a second collection a little later returns those pages too. By then every freed
    // buffer is back in the C heap, so that is when to trim it.
    setTimeout(() => {
      fullCollection()();
      void trimCHeap(options.onTrimmed);
    }, secondCollectionMs).unref();
  };
  return () => {
    ended++;
    if (ended < options.minEnded) return;
    clearTimeout(timer);
    timer = setTimeout(run, options.quietMs).unref();
  };
}

async function trimCHeap(onTrimmed: ReclaimOptions["onTrimmed"]): Promise<void> {
  const trim = await loadMallocTrim();
  if (trim === undefined) return;
  const rssBefore = process.memoryUsage.rss();
  const started = performance.now();
  trim();
  onTrimmed?.(rssBefore, process.memoryUsage.rss(), performance.now() - started);
}
