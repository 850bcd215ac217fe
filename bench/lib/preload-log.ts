import { connectGrpc } from "./eskit-client.js";
import { OriginatorSequence } from "./sample-events.js";

/** Writes `n` events through the store in 1000-event Append requests, four at a time, to originators `<label>-<worker>`. */
export async function preloadLog(url: string, n: number, label: string): Promise<void> {
  const connection = connectGrpc(url);
  const sequence = new OriginatorSequence(label);
  let next = 0;
  const worker = async (w: number) => {
    while (next < n) {
      const size = Math.min(1000, n - next);
      next += size;
      await connection.client.appendEvents(sequence.next(w, size));
    }
  };
  try {
    await Promise.all([0, 1, 2, 3].map(worker));
  } finally {
    connection.close();
  }
}
