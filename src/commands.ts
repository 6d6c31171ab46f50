/**
 * `huddle problems import DIR`: loads a pack into the sandbox and the catalog,
 * all or nothing. A broken pack is refused with a message naming the problem
 * or the dataset line; the previous version stays in place.
 */
import type { Config } from "./config";
import { databaseOptions, openDatabase } from "./db/client";
import { migrateDatabase } from "./db/migrate";
import { createPool, openSandboxBackend, syncPack } from "./judge/catalog";
import { loadPackDir, PackError } from "./judge/pack";

export async function importPackCommand(config: Config, dir: string): Promise<void> {
  const database = await openDatabase(databaseOptions(config, 2));
  const pool = createPool(await openSandboxBackend(config), { ...config, RUNNER_POOL_SIZE: 1 });
  try {
    await migrateDatabase(database);
    const loaded = await loadPackDir(dir);
    const outcome = await syncPack(database.db, pool, loaded, { force: true });
    console.log(`pack ${loaded.pack.id}: ${outcome}, ${loaded.pack.problems.length} problems in schema ${loaded.pack.schema}`);
  } catch (err) {
    if (err instanceof PackError) {
      console.error(`huddle: pack refused: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  } finally {
    await pool.close().catch(() => {});
    await database.close();
  }
}
