/**
 * The database client with DATABASE_POOLER=transaction against a real
 * transaction-mode PgBouncer: many concurrent queries and transactions over a
 * few connections, which is when postgres.js pipelines and when consecutive
 * transactions of one connection land on different server connections.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { openDatabase, type Database } from "../../../src/db/client";
import { migrateDatabase } from "../../../src/db/migrate";
import { rowsOf } from "../../../src/db/client";
import { createTestDatabase, postgresAvailable } from "../../helpers/services";
import { pgbouncerAvailable, startPgBouncer, type PgBouncer } from "../../helpers/pgbouncer";

const ok = pgbouncerAvailable() && (await postgresAvailable());

describe.skipIf(!ok)("database client behind PgBouncer (DATABASE_POOLER=transaction)", () => {
  let bouncer: PgBouncer;
  let directUrl: string;
  let drop: () => Promise<void>;
  let database: Database;
  beforeAll(async () => {
    bouncer = await startPgBouncer();
    ({ url: directUrl, drop } = await createTestDatabase("pgbc"));
    database = await openDatabase({ databaseUrl: bouncer.urlFor(directUrl), directUrl, pooler: "transaction", dataDir: "/tmp", poolSize: 4 });
    await migrateDatabase(database);
    await database.db.execute(sql`create table probe (id int primary key)`);
  }, 30_000);
  afterAll(async () => {
    await database?.close();
    await bouncer?.stop();
    await drop?.();
  });

  test("every query gets its own answer and every committed transaction stays committed", async () => {
    const db = database.db;
    let committed = 0;
    // Parameterless statements (which postgres.js would pipeline others behind), parameterised ones
    // and transactions, all at once over 4 client connections and 3 server connections.
    const results = await Promise.all(Array.from({ length: 1200 }, async (_, i) => {
      if (i % 3 === 0) return Number(rowsOf(await db.execute(sql.raw(`select ${i} as x`)))[0]!.x) === i;
      if (i % 3 === 1) return Number(rowsOf(await db.execute(sql`select ${i}::int as x`))[0]!.x) === i;
      const x = await db.transaction(async (tx) => {
        await tx.execute(sql`insert into probe values (${i})`);
        return Number(rowsOf(await tx.execute(sql`select ${i}::int as x`))[0]!.x);
      });
      committed++;
      return x === i;
    }));
    expect(results.filter((r) => !r).length).toBe(0);
    const direct = postgres(directUrl, { max: 1, onnotice: () => {} });
    try {
      expect((await direct`select count(*)::int as n from probe`)[0]!.n).toBe(committed);
    } finally {
      await direct.end({ timeout: 1 });
    }
    expect(bouncer.output()).not.toContain("when not linked");
  }, 30_000);

  test("a failed transaction rolls back and says so; nested transactions roll back alone", async () => {
    const db = database.db;
    await expect(db.transaction(async (tx) => {
      await tx.execute(sql`insert into probe values (-1)`);
      await tx.execute(sql`insert into probe values (-1)`);
    })).rejects.toThrow();
    await db.transaction(async (tx) => {
      await tx.execute(sql`insert into probe values (-2)`);
      await tx.transaction(async (inner) => {
        await inner.execute(sql`insert into probe values (-3)`);
        inner.rollback();
      }).catch(() => {});
    });
    const ids = rowsOf(await db.execute(sql`select id from probe where id < 0 order by id`)).map((r) => Number(r.id));
    expect(ids).toEqual([-2]);
  });

  test("withSession keeps session state (it is a direct connection, not the pooler)", async () => {
    const seen = await database.withSession!(async (db) => {
      await db.execute(sql`select set_config('huddle.probe', 'kept', false)`);
      const pids = new Set<number>();
      for (let i = 0; i < 5; i++) pids.add(Number(rowsOf(await db.execute(sql`select pg_backend_pid() as pid`))[0]!.pid));
      return { value: rowsOf(await db.execute(sql`select current_setting('huddle.probe', true) as v`))[0]!.v, backends: pids.size };
    });
    expect(seen).toEqual({ value: "kept", backends: 1 });
  });
});
