/**
 * The problem catalog in PostgreSQL and the sandbox it is judged in. Packs are
 * imported all or nothing (importPack), then their problems, expected results
 * and table summaries are upserted in one transaction.
 */
import { createHash } from "node:crypto";
import { eq, notInArray, and } from "drizzle-orm";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { packs, problems } from "../db/schema";
import { log } from "../lib/log";
import type { Sandbox, SandboxBackend } from "../../actors/sql-runner/types";
import { RunnerPool } from "../../actors/sql-runner/pool";
import { PgliteSandboxBackend } from "../../actors/sql-runner/pglite-sandbox";
import { PostgresSandboxBackend } from "../../actors/sql-runner/postgres-sandbox";
import { importPack } from "./judge";
import type { LoadedPack } from "./pack";
import { defaultPack } from "./default-pack";

export function packHash(loaded: LoadedPack): string {
  return createHash("sha256").update(JSON.stringify(loaded.pack)).update("\0").update(loaded.dataset).digest("hex");
}

/** The sandbox backend from config: PostgreSQL next to the application database (its own database), else PGlite Workers. */
export async function openSandboxBackend(config: Config): Promise<SandboxBackend> {
  const kind = config.SANDBOX_BACKEND ?? (config.DATABASE_URL ? "postgres" : "pglite");
  if (kind === "pglite") return PgliteSandboxBackend.create();
  // PostgreSQL itself, never a transaction pooler: the runners cancel a running query by its backend's pid,
  // and setup creates roles and databases over a session (DATABASE_DIRECT_URL).
  const directUrl = config.DATABASE_DIRECT_URL ?? config.DATABASE_URL;
  const adminUrl = config.SANDBOX_DATABASE_URL ?? directUrl;
  if (!adminUrl) throw new Error("SANDBOX_BACKEND=postgres needs DATABASE_URL or SANDBOX_DATABASE_URL");
  // One sandbox database per application database, so two deployments (or test runs) never share one.
  const appDb = new URL(directUrl ?? adminUrl).pathname.slice(1) || "postgres";
  const database = config.SANDBOX_DATABASE_URL ? new URL(adminUrl).pathname.slice(1) : `${appDb}_sandbox`.slice(0, 63);
  return PostgresSandboxBackend.open({ adminUrl, database });
}

type TableInfo = { name: string; columns: { name: string; type: string }[]; sample: { columns: string[]; rows: (string | null)[][] } };

async function describeTables(sandbox: Pick<Sandbox, "run">, schema: string): Promise<TableInfo[]> {
  const cols = await sandbox.run(schema, `select table_name, column_name, data_type from information_schema.columns
    where table_schema = '${schema}' order by table_name, ordinal_position`, { timeoutMs: 10_000, maxRows: 5000, truncate: true });
  if (!cols.ok) return [];
  const tables = new Map<string, TableInfo>();
  for (const [table, column, type] of cols.rows) {
    if (!tables.has(table!)) tables.set(table!, { name: table!, columns: [], sample: { columns: [], rows: [] } });
    tables.get(table!)!.columns.push({ name: column!, type: type! });
  }
  for (const t of tables.values()) {
    const sample = await sandbox.run(schema, `select * from "${t.name.replaceAll('"', '""')}" limit 3`, { timeoutMs: 5000, maxRows: 3, truncate: true });
    if (sample.ok) t.sample = { columns: sample.columns.map((c) => c.name), rows: sample.rows };
  }
  return [...tables.values()];
}

/** Imports a pack into the sandbox and the catalog. Skips when the catalog already has this exact version, unless `force`. */
export async function syncPack(db: Db, sandbox: Sandbox, loaded: LoadedPack, opts: { force?: boolean } = {}): Promise<"imported" | "unchanged"> {
  const hash = packHash(loaded);
  const [existing] = await db.select({ hash: packs.datasetSha256 }).from(packs).where(eq(packs.id, loaded.pack.id));
  if (existing?.hash === hash && !opts.force) return "unchanged";
  const imported = await importPack(sandbox, loaded);
  const tables = await describeTables(sandbox, loaded.pack.schema);
  await db.transaction(async (tx) => {
    const row = { title: loaded.pack.title, schema: loaded.pack.schema, datasetSha256: hash, dataset: loaded.dataset, tables, importedAt: new Date() };
    await tx.insert(packs).values({ id: loaded.pack.id, ...row }).onConflictDoUpdate({ target: packs.id, set: row });
    const ids = imported.problems.map((p) => p.id);
    await tx.delete(problems).where(and(eq(problems.packId, loaded.pack.id), notInArray(problems.id, ids)));
    for (const [position, p] of imported.problems.entries()) {
      const values = { packId: loaded.pack.id, position, title: p.title, difficulty: p.difficulty, statement: p.statement, solution: p.solution, ordered: p.ordered, expected: p.expected };
      await tx.insert(problems).values({ id: p.id, ...values }).onConflictDoUpdate({ target: problems.id, set: values });
    }
  });
  log.info({ pack: loaded.pack.id, problems: imported.problems.length, rows: imported.copiedRows }, "problem pack imported");
  return "imported";
}

/**
 * Brings the sandbox in line with the catalog at start-up: the default pack
 * is imported when missing or changed; an in-memory (PGlite) sandbox starts
 * empty, so every catalogued pack is loaded into it again.
 */
export async function prepareSandbox(db: Db, pool: RunnerPool): Promise<void> {
  const inMemory = pool.kind === "pglite";
  await syncPack(db, pool, defaultPack(), { force: inMemory });
  if (!inMemory) return;
  const others = await db.select().from(packs);
  for (const p of others) {
    if (p.id === defaultPack().pack.id || !p.dataset) continue;
    const { validatePack } = await import("./pack");
    const [rows] = [await db.select().from(problems).where(eq(problems.packId, p.id))];
    const pack = validatePack({
      id: p.id, title: p.title, dataset: "dataset.sql", schema: p.schema,
      problems: rows.sort((a, b) => a.position - b.position).map((r) => ({ id: r.id, title: r.title, difficulty: r.difficulty, statement: r.statement, solution: r.solution, ordered: r.ordered })),
    });
    await syncPack(db, pool, { pack, dataset: p.dataset }, { force: true }).catch((err) => log.error({ err, pack: p.id }, "pack could not be reloaded into the sandbox"));
  }
}

export function createPool(backend: SandboxBackend, config: Config): RunnerPool {
  return new RunnerPool(backend, { size: config.RUNNER_POOL_SIZE, queueTimeoutMs: 30_000 });
}
