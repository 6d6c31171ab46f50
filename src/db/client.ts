/**
 * Opens the database: postgres.js when DATABASE_URL is set, otherwise PGlite
 * in DATA_DIR/pglite. Both give a drizzle PgDatabase over the same schema, so
 * services never know which one they run on.
 */
import { drizzle as drizzlePg } from "drizzle-orm/postgres-js";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as schema from "./schema";
import { openPglite } from "./pglite";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type Database = {
  kind: "postgres" | "pglite";
  db: Db;
  /** Runs a trivial query; throws when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** postgres.js only: swaps in a fresh connection pool and drains the old one (see driver-guard.ts). */
  replacePool?(): void;
};

export async function openDatabase(opts: { databaseUrl?: string; dataDir: string; poolSize?: number }): Promise<Database> {
  if (opts.databaseUrl) {
    const url = opts.databaseUrl;
    const connect = () => postgres(url, {
      max: opts.poolSize ?? 10,
      onnotice: () => {},
      connect_timeout: 5,
      idle_timeout: 60,
      // postgres.js waits up to 20 s between reconnect attempts after repeated failures, and queries queued
      // on such a connection wait with it: during an outage requests would hang instead of failing fast
      // (503), and after it they would stay slow. Retry at most every second instead.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    });
    let client = connect();
    const db = drizzlePg(client, { schema }) as unknown as Db;
    let closing: Promise<void> | undefined;
    return {
      kind: "postgres",
      db,
      ping: async () => void (await client`select 1`),
      close: () => (closing ??= client.end({ timeout: 5 })),
      replacePool: () => {
        if (closing) return;
        const old = client;
        client = connect();
        drizzlePg(client, { schema }); // applies drizzle's type parsers to the new client
        // Every query and transaction goes through the session's client, so this redirects them all.
        (db as unknown as { session: { client: postgres.Sql } }).session.client = client;
        (db as unknown as { $client: postgres.Sql }).$client = client;
        void old.end({ timeout: 5 }).catch(() => {});
      },
    };
  }
  const dir = join(opts.dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  const pg = await openPglite(dir);
  const db = drizzlePglite(pg, { schema }) as unknown as Db;
  let closing: Promise<void> | undefined;
  return {
    kind: "pglite",
    db,
    ping: async () => void (await pg.query("select 1")),
    close: () => (closing ??= pg.close()),
  };
}
