/**
 * A full runtime whose application database goes through a transaction-mode
 * PgBouncer, configured the way an operator would: DATABASE_URL is the
 * pooler, DATABASE_POOLER=transaction, DATABASE_DIRECT_URL is PostgreSQL
 * itself (migrations, the SQL sandbox). Listens on a random port, so tests
 * drive it over real HTTP like the bug report's load did.
 */
import Redis from "ioredis";
import { databaseOptions, startRuntime } from "../../src/root";
import { openDatabase } from "../../src/db/client";
import { createEngine } from "../../src/engine";
import { testConfig } from "./app";
import { generousBuckets, type TestRuntime } from "./runtime";
import { createTestDatabase, redisDbUrl } from "./services";
import { startPgBouncer, type PgBouncer } from "./pgbouncer";

export type PooledRuntime = TestRuntime & { bouncer: PgBouncer; directUrl: string; redisUrl: string };

export async function buildPooledRuntime(opts: { redisDb: number; config?: Record<string, string> }): Promise<PooledRuntime> {
  const redisUrl = redisDbUrl(opts.redisDb);
  const r = new Redis(redisUrl);
  await r.flushdb();
  r.disconnect();
  const bouncer = await startPgBouncer();
  const { url: directUrl, drop } = await createTestDatabase("pgb");
  const config = testConfig({
    REDIS_URL: redisUrl,
    DATABASE_URL: bouncer.urlFor(directUrl),
    DATABASE_DIRECT_URL: directUrl,
    DATABASE_POOLER: "transaction",
    CONVERSATION_IDLE_MS: "500",
    ...opts.config,
  });
  const database = await openDatabase(databaseOptions(config, 5));
  const engine = await createEngine({ redisUrl });
  const rt = await startRuntime(config, { database, engine, buckets: generousBuckets() });
  rt.app.listen({ port: 0, hostname: "127.0.0.1" });
  const port = rt.app.server!.port!;
  return {
    ...rt,
    bouncer, directUrl, redisUrl,
    port,
    base: `http://127.0.0.1:${port}`,
    wsBase: `ws://127.0.0.1:${port}`,
    close: async () => {
      await rt.stop();
      await bouncer.stop();
      await drop().catch(() => {});
    },
  };
}
