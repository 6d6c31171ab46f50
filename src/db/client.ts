/**
 * Opens the database: postgres.js when DATABASE_URL is set, otherwise PGlite
 * in DATA_DIR/pglite. Both give a drizzle PgDatabase over the same schema, so
 * services never know which one they run on.
 */
import { drizzle as drizzlePg } from "drizzle-orm/postgres-js";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { log } from "../lib/log";
import * as schema from "./schema";
import { transactionPoolingOptions, withoutPipelining } from "./transaction-pooling";
import { preparingUnsafe } from "./prepared-statements";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The rows of `db.execute(sql...)`: postgres.js returns an array, PGlite returns {rows}. */
export function rowsOf(result: unknown): Record<string, unknown>[] {
  return Array.isArray(result) ? result : ((result as { rows: Record<string, unknown>[] }).rows ?? []);
}

export type DatabaseOptions = {
  databaseUrl?: string;
  /** PostgreSQL itself, for what needs a session of its own (see withSession); default databaseUrl. */
  directUrl?: string;
  /** "transaction": databaseUrl is a transaction-pooling PgBouncer (DATABASE_POOLER). */
  pooler?: "session" | "transaction";
  dataDir: string;
  poolSize?: number;
  /** Embedded PGlite's shared_buffers (PGLITE_SHARED_BUFFERS_MB). */
  sharedBuffersMb?: number;
};

export type Database = {
  kind: "postgres" | "pglite";
  db: Db;
  /** Runs a trivial query; throws when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** postgres.js only: swaps in a fresh connection pool and drains the old one (see driver-guard.ts). */
  replacePool?(): void;
  /**
   * Runs `fn` where session state holds (advisory locks, SET, LISTEN): behind a transaction pooler
   * that is a short-lived connection to directUrl; otherwise `db` itself. Absent means `db` itself.
   */
  withSession?<T>(fn: (db: Db) => Promise<T>): Promise<T>;
};

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const url = opts.databaseUrl;
    const pooled = opts.pooler === "transaction";
    const direct = opts.directUrl ?? url;
    if (pooled && direct === url) {
      log.warn("DATABASE_POOLER=transaction without DATABASE_DIRECT_URL: migrations and the SQL sandbox go through the pooler too");
    }
    const connect = () => {
      const sql = postgres(url, {
        max: opts.poolSize ?? 10,
        // Behind a transaction pooler: no named prepared statements, no pipelining (transaction-pooling.ts).
        ...(pooled ? transactionPoolingOptions : {}),
        onnotice: () => {},
        connect_timeout: 5,
        idle_timeout: 60,
        // postgres.js waits up to 20 s between reconnect attempts after repeated failures, and queries queued
        // on such a connection wait with it: during an outage requests would hang instead of failing fast
        // (503), and after it they would stay slow. Retry at most every second instead.
        backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
      });
      // Direct: drizzle's queries prepared (one round trip each; prepared-statements.ts).
      return pooled ? withoutPipelining(sql) : preparingUnsafe(sql);
    };
    let client = connect();
    const db = drizzlePg(client, { schema }) as unknown as Db;
    let closing: Promise<void> | undefined;
    return {
      kind: "postgres",
      db,
      ping: async () => void (await client`select 1`),
      close: () => (closing ??= client.end({ timeout: 5 })),
      // Without a direct URL, the pooled client is still the safe one (warned about above).
      withSession: pooled && direct !== url ? (fn) => withDirect(direct, fn) : (fn) => fn(db),
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
  // Loaded only here: a server on PostgreSQL never evaluates PGlite's modules (start-up time).
  const [{ openPglite }, { drizzle: drizzlePglite }] = await Promise.all([import("./pglite"), import("drizzle-orm/pglite")]);
  const pg = await openPglite(dir, {}, { sharedBuffersMb: opts.sharedBuffersMb });
  const db = drizzlePglite(pg, { schema }) as unknown as Db;
  let closing: Promise<void> | undefined;
  return {
    kind: "pglite",
    db,
    ping: async () => void (await pg.query("select 1")),
    close: () => (closing ??= pg.close()),
  };
}

/** A one-connection client to PostgreSQL itself for `fn` (migrations at start-up, commands), closed after. */
async function withDirect<T>(url: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await fn(drizzlePg(client, { schema }) as unknown as Db);
  } finally {
    await client.end({ timeout: 5 });
  }
}
