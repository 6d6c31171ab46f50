/**
 * Applies drizzle-kit's migrations (embedded at build time) on either driver.
 * Idempotent: drizzle records applied migrations in drizzle.__drizzle_migrations.
 */
import type { Db } from "./client";
import { embeddedMigrations } from "./migrations.macro" with { type: "macro" };

type Migrator = { dialect: { migrate(m: unknown, session: unknown, cfg: unknown): Promise<void> }; session: unknown };

export async function migrate(db: Db): Promise<number> {
  const all = embeddedMigrations();
  const internal = db as unknown as Migrator;
  await internal.dialect.migrate(all, internal.session, { migrationsFolder: "(embedded)" });
  return all.length;
}
