/** Where a tail begins: the first entry, the next entry after the head, or a given log id. */
export type LogStart =
  { readonly kind: "beginning" } | { readonly kind: "end" } | { readonly kind: "id"; readonly id: bigint };

/** `text` as a log id to start from, or a message saying why it is not one. */
export function parseLogId(text: string): { id: bigint } | { problem: string } {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { problem: "a log id is a whole number, 1 or more" };
  const id = BigInt(trimmed);
  if (id < 1n) return { problem: "log ids start at 1" };
  if (id > 0xffff_ffff_ffff_ffffn) return { problem: "a log id fits in 64 bits" };
  return { id };
}

/** The first log id to ask LogsPoll for, given the log's head (the last id written) when starting at the end. */
export function firstIdOf(start: LogStart, head: () => Promise<bigint>): Promise<bigint> {
  switch (start.kind) {
    case "beginning":
      return Promise.resolve(1n);
    case "end":
      return head().then((last) => last + 1n);
    case "id":
      return Promise.resolve(start.id);
  }
}
