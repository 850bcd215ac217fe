import * as http from "node:http";

/**
 * A LogsPoll reader as a browser or curl gets the log: Connect's streaming JSON over HTTP/1.1 (enveloped JSON
 * messages), each message parsed with JSON.parse, entry ids checked to increase. Reads from id 0; resolves with how
 * many entries arrived once `n` did (then closes the connection).
 */
export function jsonLogsPollCount(baseUrl: string, n: number): Promise<number> {
  const body = Buffer.from("{}");
  const envelope = Buffer.alloc(5 + body.length);
  envelope.writeUInt32BE(body.length, 1);
  envelope.set(body, 5);
  return new Promise((resolve, reject) => {
    let received = 0;
    let lastId = 0n;
    let done = false;
    const request = http.request(
      new URL("/eskit.eventstore.v1.EventStoreService/LogsPoll", baseUrl),
      {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/connect+json", "content-length": envelope.length },
      },
      (response) => {
        if (response.statusCode !== 200) return finish(new Error(`LogsPoll answered HTTP ${response.statusCode}`));
        let pending: Buffer = Buffer.alloc(0);
        response.on("data", (chunk: Buffer) => {
          pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
          while (!done && pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
            const flags = pending[0]!;
            const size = pending.readUInt32BE(1);
            const text = pending.toString("utf8", 5, 5 + size);
            pending = pending.subarray(5 + size);
            if ((flags & 0x02) !== 0) return finish(new Error(`LogsPoll ended after ${received} entries: ${text}`));
            const message = JSON.parse(text) as { entries?: Array<{ id?: string }> };
            for (const entry of message.entries ?? []) {
              const id = BigInt(entry.id ?? "0");
              if (id <= lastId) return finish(new Error(`entry id ${id} after ${lastId}`));
              lastId = id;
              if (++received >= n) return finish();
            }
          }
        });
        response.on("error", (error) => finish(error));
        response.on("end", () => finish(new Error(`LogsPoll ended after ${received} entries`)));
      },
    );
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      request.destroy();
      if (error) reject(error);
      else resolve(received);
    };
    request.on("error", (error) => finish(error));
    request.end(envelope);
  });
}
