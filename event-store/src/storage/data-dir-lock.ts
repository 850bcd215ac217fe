import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * Makes sure only one process opens an embedded (PGlite) database: two processes writing one data directory would
 * corrupt it, silently. The lock is a file holding the owner's pid; a lock left by a process that died is taken
 * over. Returns the function that releases it.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, "eskit.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `the data directory ${dataDir} is in use by process ${owner}: an embedded database serves one process;` +
            " set DATABASE_URL to share a PostgreSQL between processes",
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new Error(`could not lock the data directory ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
