/**
 * Starts the serving process: stores, actor system, HTTP/WebSocket listener,
 * and the shutdown sequence. SIGTERM/SIGINT: stop accepting, let in-flight
 * requests finish, stop the actors (they flush and hand back work), close
 * stores, exit 0.
 */
import type { Config } from "./config";
import { log } from "./lib/log";
import { openDatabase } from "./db/client";
import { migrate } from "./db/migrate";
import { createEngine } from "./engine";
import { createApp } from "./app";

export type RunningServer = { port: number; stop: () => Promise<void> };

export async function startServer(config: Config, opts: { installSignals?: boolean } = {}): Promise<RunningServer> {
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  await migrate(database.db);
  const engine = await createEngine({ redisUrl: config.REDIS_URL });
  let draining = false;
  const app = createApp({ config, database, engine, isDraining: () => draining });
  app.listen({
    port: config.PORT,
    hostname: config.HOST,
    maxRequestBodySize: config.MAX_BODY_BYTES,
  });
  const port = app.server!.port!;
  log.info({ port, database: database.kind, engine: engine.kind, role: config.ROLE }, "huddle listening");

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      draining = true;
      log.info("shutting down");
      const steps: [string, () => Promise<unknown>][] = [
        ["http", () => app.stop(false)],
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
      log.info("stopped");
    })());

  if (opts.installSignals !== false) {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      process.once(sig, () => {
        stop().then(() => process.exit(0), () => process.exit(1));
      });
    }
  }
  return { port, stop };
}
