/**
 * Applies drizzle-kit's migrations (embedded at build time) on either driver.
 * Idempotent: drizzle records applied migrations in drizzle.__drizzle_migrations.
 */
import { sql } from "drizzle-orm";
import type { Database, Db } from "./client";
import { embeddedMigrations } from "./migrations.macro" with { type: "macro" };

type Session = { transaction(fn: (tx: unknown) => Promise<unknown>): Promise<unknown> };
type Migrator = { dialect: { migrate(m: unknown, session: Session, cfg: unknown): Promise<void> }; session: Session };

// Any constant both processes agree on; "huddle migrations" in ASCII.
const MIGRATION_LOCK = 0x6875_6464_6c65;

/** Migrates through the database's session connection: behind a transaction pooler, DATABASE_DIRECT_URL. */
export function migrateDatabase(database: Pick<Database, "db" | "withSession">): Promise<number> {
  return database.withSession ? database.withSession(migrate) : migrate(database.db);
}

export async function migrate(db: Db): Promise<number> {
  const all = embeddedMigrations();
  const dialect = (db as unknown as Migrator).dialect;
  // Instances starting together on a new database would both create drizzle's
  // bookkeeping table and both apply migration 0: serialise them with a
  // transaction-scoped advisory lock, and run everything inside that one
  // transaction (so a single pooled connection is enough).
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    const inner = (tx as unknown as Migrator).session;
    const session = Object.assign(Object.create(inner) as Session, { transaction: (fn: (t: unknown) => Promise<unknown>) => fn(tx) });
    await dialect.migrate(all, session, { migrationsFolder: "(embedded)" });
  });
  return all.length;
}
