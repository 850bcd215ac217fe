/**
 * glibc's `malloc_trim(0)`, called through koffi (an FFI package with prebuilt binaries: nothing to compile).
 *
 * Why: glibc gives memory back to the system only from the top of its main heap. A crowd of clients makes the heap
 * grow by hundreds of MiB (socket buffers, HTTP/2 frames, messages waiting for readers); when the crowd leaves, all
 * of that is freed, but a few small allocations made meanwhile that live on (a pooled connection's read buffer, a
 * timer) sit near the top and pin it. The freed memory below them then stays resident for good: 1000 unread HTTP/2
 * streams left the Event Store's heap at 220 MiB with 8 MiB of it in use. `malloc_trim` walks every free chunk and
 * hands its pages back (madvise), which is what reaches that memory. Deno and rippled call it after such bursts too.
 *
 * Only on Linux with glibc: musl, macOS and Windows allocators have no such call (and return memory differently), so
 * there {@link loadMallocTrim} resolves to `undefined` and nothing is trimmed.
 */

/** Trims every arena now; `true` when glibc gave memory back. */
export type MallocTrim = () => boolean;

let loading: Promise<MallocTrim | undefined> | undefined;

/**
 * The trim function of this process, loaded once (koffi and libc are loaded on the first call, not at start-up);
 * `undefined` where the C library is not glibc or the FFI cannot load. Never rejects.
 */
export function loadMallocTrim(): Promise<MallocTrim | undefined> {
  return (loading ??= load().catch(() => undefined));
}

async function load(): Promise<MallocTrim | undefined> {
  if (process.platform !== "linux" || !isGlibc()) return undefined;
  const { default: koffi } = await import("koffi");
  const trim = koffi.load("libc.so.6").func("int malloc_trim(size_t pad)") as (pad: number) => number;
  return () => trim(0) === 1;
}

/** Whether this process runs on glibc: its diagnostic report names the glibc version only then. */
function isGlibc(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return typeof report?.header?.glibcVersionRuntime === "string";
}
