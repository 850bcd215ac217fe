/**
 * Most bytes of entries in one LogsPoll message, as encoded on the wire (protobuf, or JSON for Connect JSON). Far
 * under the 4 MiB that grpc-go and grpc-java accept by default, and small enough that a client that stops reading
 * leaves little in the server's transport buffers; large enough that catch-up is not slowed by per-message costs.
 * One entry larger than this still travels, alone.
 */
export const maxMessageBytes = 256 * 1024;

/**
 * Groups `items` in order into runs whose sizes (`sizeOf`: the exact encoded size of each, with its field tag and
 * length prefix or its JSON separator) add up to at most `maxBytes`; an item larger than that forms a run alone.
 * Lazy: an item is sized (and so encoded) only when its run is asked for.
 */
export function* chunkBySize<T>(
  items: Iterable<T>,
  sizeOf: (item: T) => number,
  maxBytes: number = maxMessageBytes,
): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
