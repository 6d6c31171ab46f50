/**
 * The one-shot commands of the binary (`migrate`, `outbox replay`,
 * `problems import DIR`), built from the composition root's own builders
 * (src/root.ts) with just the parts each needs.
 */
import type { Config } from "./config";
import { createEngine } from "./engine";
import { createRunnerPool, openSandboxBackend } from "./sandbox";
import { loadPackDir, PackError } from "./judge/pack";
import { syncPack } from "./modules/problems/catalog";
import { buildServices, openStores, sandboxSettings } from "./root";

/** `huddle migrate`: apply the migrations and exit. */
export async function migrateCommand(config: Config): Promise<void> {
  const { database, engine } = await openStores(config, { engine: await createEngine() }, 1);
  console.log(`migrations up to date on ${database.kind}${config.DATABASE_POOLER === "transaction" ? " (through DATABASE_DIRECT_URL)" : ""}`);
  await engine.close();
  await database.close();
}

/**
 * `huddle outbox replay`: writes the messages PostgreSQL refused (the dead-letter stream, `chat:persist:dead`)
 * again, once the cause is fixed; what is stored leaves the stream, what is still refused stays. Needs REDIS_URL
 * (the memory engine's dead letters live and die with the server process).
 */
export async function outboxReplayCommand(config: Config): Promise<number> {
  if (!config.REDIS_URL) {
    console.error("huddle: outbox replay needs REDIS_URL (without Redis, dead letters live in the server process only)");
    return 1;
  }
  const stores = await openStores(config, {}, 2);
  try {
    const before = await stores.engine.deadLetters.count();
    const { stored, kept } = await buildServices(config, stores).messageWriter.replay();
    console.log(`outbox replay: ${before} dead letter(s); ${stored} written to PostgreSQL, ${kept} still refused (kept)`);
    return kept ? 1 : 0;
  } finally {
    await stores.engine.close();
    await stores.database.close();
  }
}

/**
 * `huddle problems import DIR`: loads a pack into the sandbox and the catalog, all or nothing. A broken pack
 * is refused with a message naming the problem or the dataset line; the previous version stays in place.
 * Running judges are told through Redis (when REDIS_URL is set) to drop their cached expected results.
 */
export async function importPackCommand(config: Config, dir: string): Promise<void> {
  const { database, engine } = await openStores(config, {}, 2);
  const pool = createRunnerPool(await openSandboxBackend(sandboxSettings(config)), 1);
  try {
    const loaded = await loadPackDir(dir);
    const warnings: string[] = [];
    const outcome = await syncPack(database.db, pool, loaded, { force: true, broker: engine.broker, warnings });
    const tests = loaded.pack.problems.reduce((n, p) => n + (p.tests?.length ?? 0), 0);
    console.log(`pack ${loaded.pack.id}: ${outcome}, ${loaded.pack.problems.length} problems in schema ${loaded.pack.schema}, ${tests} hidden tests`);
    for (const w of warnings) console.log(`warning: ${w}`);
  } catch (err) {
    if (!(err instanceof PackError)) throw err;
    console.error(`huddle: pack refused: ${err.message}`);
    process.exitCode = 1;
  } finally {
    await pool.close().catch(() => {});
    await engine.close();
    await database.close();
  }
}
