/**
 * glibc malloc settings every ESKIT service process is started with (the image's ENV, `make run`, the tests that
 * spawn services), for servers whose memory must come back after a burst of clients.
 *
 * With glibc's defaults, what a crowd of streams allocated outside V8 (socket and HTTP/2 buffers, the bytes of queued
 * messages: 100-200 KiB each for a thousand unread streams) is freed but stays in the process: freed blocks in the
 * middle of the main heap are never returned, and the threshold above which blocks get their own mapping (and are
 * unmapped on free) grows with the largest block freed, so later large blocks land in the heap too. Measured with
 * 1,000 unread streams over HTTP/1.1 then HTTP/2 (Node 24): the heap mapping kept 183 MiB after they left and RSS
 * stayed 1.2-1.4x its start; with these settings it kept 119 MiB and RSS came back to 0.9x (issue 10).
 *
 * - `MALLOC_MMAP_THRESHOLD_`: blocks of 32 KiB and more get a mapping of their own, returned to the system on free
 *   (setting it also stops the threshold from growing).
 * - `MALLOC_ARENA_MAX`: two arenas, not eight per core, for a process whose JavaScript runs on one thread.
 *
 * Variables already set in the environment win, so an operator can tune them.
 */
export const allocatorEnv: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_MMAP_THRESHOLD_: "32768",
};
