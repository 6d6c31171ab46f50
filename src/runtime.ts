/**
 * A whole running Huddle: stores, actor system and app, plus an orderly stop.
 * server.ts listens on it; tests build the same thing on their own databases.
 */
import type { Config } from "./config";
import { databaseOptions, openDatabase, type Database } from "./db/client";
import { migrateDatabase } from "./db/migrate";
import { createEngine } from "./engine";
import type { Engine } from "./engine/types";
import { startActorSystem, type ActorSystem } from "../actors/system";
import { createApp, type AppDeps } from "./app";
import { log } from "./lib/log";
import { CLOSE } from "./modules/chat/connection";
import { testHooksModule } from "./modules/testhooks";

const DRAIN_MS = 500;

export type Runtime = {
  app: ReturnType<typeof createApp>;
  config: Config;
  database: Database;
  engine: Engine;
  system: ActorSystem;
  /** Stops in order: sockets, HTTP, actors (they flush and hand work back), stores. Idempotent. */
  stop(): Promise<void>;
  draining(): boolean;
};

export async function startRuntime(config: Config, opts: { database?: Database; engine?: Engine; app?: Partial<AppDeps> } = {}): Promise<Runtime> {
  const database = opts.database ?? (await openDatabase(databaseOptions(config)));
  await migrateDatabase(database);
  const engine = opts.engine ?? (await createEngine({ redisUrl: config.REDIS_URL }));
  const system = await startActorSystem({ config, engine, db: database.db });
  let draining = false;
  const app = createApp({
    config, database, engine,
    actors: system,
    isDraining: () => draining,
    checks: [
      { name: "actors", check: async () => actorHealth(system) },
      { name: "pubsub", check: async () => system.canaryCheck() },
    ],
    ...opts.app,
    // Fault injection for tests only (config.ts refuses it in production).
    modules: [...(opts.app?.modules ?? []), ...(config.HUDDLE_TEST_HOOKS ? [() => testHooksModule(system, config)] : [])],
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      draining = true;
      const steps: [string, () => Promise<unknown>][] = [
        ["sockets", async () => app.hub?.closeAll(CLOSE.shutdown)],
        // Keep serving briefly (answers now say Connection: close and /ready 503): requests already on
        // their way are read and answered instead of meeting a closed keep-alive connection.
        ["drain", async () => app.server && (await Bun.sleep(DRAIN_MS))],
        ["http", async () => app.server && (await app.stop(false))],
        ["actors", () => system.stop()],
        ["engine", () => engine.close()],
        ["database", () => database.close()],
      ];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (err) {
          log.warn({ err, step: name }, "shutdown step failed");
        }
      }
    })());
  return { app, config, database, engine, system, stop, draining: () => draining };
}

/** Fails when a permanent child is not running (crashed and waiting for its restart). */
function actorHealth(system: ActorSystem) {
  const snap = system.snapshot();
  const down = (snap.children ?? []).filter((c) => c.kind === "permanent" && c.state !== "running").map((c) => `${c.name}:${c.state}`);
  if (down.length) throw new Error(`not running: ${down.join(", ")}`);
  const restarts: Record<string, number> = Object.fromEntries((snap.children ?? []).map((c) => [c.name, c.restarts]));
  // Keyed children (one actor per conversation) are summed, like in /metrics.
  const conversations = (snap.children ?? []).find((c) => c.name === "conversations");
  if (conversations) restarts["conversations/*"] = (conversations.children ?? []).reduce((n, c) => n + c.restarts, 0);
  return { restarts };
}
