/**
 * glibc malloc settings every ESKIT service process is started with (the image's ENV, `make run`, the benches and
 * the tests that spawn services): two arenas, not eight per core, for a process whose JavaScript runs on one thread,
 * so memory freed after a burst of clients is spread over fewer heaps that glibc can shrink. Variables already set in
 * the environment win, so an operator can tune them.
 *
 * Tried and left out (issue 10): `MALLOC_MMAP_THRESHOLD_=32768` made glibc's main heap keep 119 MiB instead of 183 MiB
 * after 1,000 unread streams left, but every socket read buffer and stream message then costs an mmap, munmap and page
 * faults: LogsPoll catch-up fell from 0.43x to 0.29-0.30x of raw postgres.js in bench/catch-up.ts.
 */
export const allocatorEnv: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "2",
};
