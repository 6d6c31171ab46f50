/**
 * The problem catalog in PostgreSQL and the sandbox it is judged in. Packs are
 * imported all or nothing (importPack), then their problems, expected results
 * and table summaries are upserted in one transaction. Works on any Sandbox
 * (the runner pool, or a backend's runner); which backend is the composition
 * root's choice. After an import every judge is told (catalogChannel), so no
 * instance keeps judging against old expected results.
 */
import { createHash } from "node:crypto";
import { and, asc, eq, notInArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import { packs, problems } from "../../db/schema";
import { catalogChannel } from "../../engine/names";
import type { Broker } from "../../engine/types";
import { log } from "../../lib/log";
import type { Sandbox } from "../../sandbox/types";
import type { SavedSnapshots } from "../../sandbox/saved-snapshot";
import { importPack, type ExpectedResult } from "../../judge/judge";
import { validatePack, type LoadedPack } from "../../judge/pack";
import { defaultPack } from "../../judge/default-pack";
import { releaseParserSoon } from "../../judge/pg-ast";

export function packHash(loaded: LoadedPack): string {
  const hash = createHash("sha256").update(JSON.stringify(loaded.pack)).update("\0").update(loaded.dataset);
  for (const [path, text] of Object.entries(loaded.setups ?? {}).sort(([a], [b]) => a.localeCompare(b))) hash.update("\0").update(path).update("\0").update(text);
  return hash.digest("hex");
}

/** What the catalog keeps per hidden test (the setup text too: an in-memory sandbox is rebuilt from it at start). */
export type StoredTest = { name: string; setup: string; setup_sql: string; schema: string; expected: ExpectedResult };

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
export async function syncPack(db: Db, sandbox: Sandbox, loaded: LoadedPack, opts: { force?: boolean; broker?: Broker; warnings?: string[] } = {}): Promise<"imported" | "unchanged"> {
  const hash = packHash(loaded);
  const [existing] = await db.select({ hash: packs.datasetSha256 }).from(packs).where(eq(packs.id, loaded.pack.id));
  if (existing?.hash === hash && !opts.force) return "unchanged";
  const imported = await importPack(sandbox, loaded);
  opts.warnings?.push(...imported.warnings);
  if (imported.warnings.length) log.warn({ pack: loaded.pack.id, warnings: imported.warnings }, "problem pack imported with warnings");
  const tables = await describeTables(sandbox, loaded.pack.schema);
  await db.transaction(async (tx) => {
    const row = { title: loaded.pack.title, schema: loaded.pack.schema, datasetSha256: hash, dataset: loaded.dataset, tables, importedAt: new Date() };
    await tx.insert(packs).values({ id: loaded.pack.id, ...row }).onConflictDoUpdate({ target: packs.id, set: row });
    const ids = imported.problems.map((p) => p.id);
    await tx.delete(problems).where(and(eq(problems.packId, loaded.pack.id), notInArray(problems.id, ids)));
    for (const [position, p] of imported.problems.entries()) {
      const tests: StoredTest[] = p.hiddenTests.map((t, i) => ({
        name: t.name, setup: p.tests![i]!.setup, setup_sql: loaded.setups?.[p.tests![i]!.setup] ?? "", schema: t.schema, expected: t.expected,
      }));
      const values = { packId: loaded.pack.id, position, title: p.title, difficulty: p.difficulty, statement: p.statement, solution: p.solution, ordered: p.ordered, expected: p.expected, tests, hints: p.hints ?? [], showExpected: p.show_expected ?? false };
      await tx.insert(problems).values({ id: p.id, ...values }).onConflictDoUpdate({ target: problems.id, set: values });
    }
  });
  log.info({ pack: loaded.pack.id, problems: imported.problems.length, rows: imported.copiedRows }, "problem pack imported");
  // Best effort: a judge that misses the notice (Redis down) drops its cache within a minute anyway.
  await opts.broker?.publish(catalogChannel, JSON.stringify({ pack_id: loaded.pack.id })).catch((err) => log.warn({ err }, "pack import notice not published"));
  return "imported";
}

/** Whether the catalog already holds this exact default pack (else the sandbox must import it before anything can be judged). */
export async function defaultPackCatalogued(db: Db): Promise<boolean> {
  const [existing] = await db.select({ hash: packs.datasetSha256 }).from(packs).where(eq(packs.id, defaultPack().pack.id));
  return existing?.hash === packHash(defaultPack());
}

/**
 * Brings the sandbox in line with the catalog at start-up: the default pack
 * is imported when missing or changed; a PGlite sandbox starts empty, so
 * every catalogued pack is loaded into it again, unless `saved` holds the
 * snapshot made after the last such load of exactly this catalog.
 */
export async function prepareSandbox(db: Db, pool: Sandbox & { readonly kind: string }, saved?: SavedSnapshots): Promise<void> {
  const inMemory = pool.kind === "pglite";
  // Runners start from the snapshot kept after the last load of exactly this catalog, if there is one.
  if (inMemory && saved && (await defaultPackCatalogued(db)) && (await saved.resume(await catalogKey(db)))) {
    log.info("sql runners start from the saved snapshot of the catalog's packs");
    return;
  }
  try {
    await syncPack(db, pool, defaultPack(), { force: inMemory });
    if (!inMemory) return;
    const complete = await reloadOtherPacks(db, pool);
    // A sandbox that misses a pack is not kept: the next start tries the load again.
    if (complete) await saved?.save(await catalogKey(db)).catch((err) => log.warn({ err }, "the sandbox snapshot could not be saved; the next start loads the packs again"));
  } finally {
    // The import parsed the datasets; nothing needs the parser again until a submission comes.
    releaseParserSoon();
  }
}

/** What the catalog's packs are: ids, datasets and import times (any import changes it). */
async function catalogKey(db: Db): Promise<string> {
  const rows = await db.select({ id: packs.id, sha: packs.datasetSha256, at: packs.importedAt }).from(packs).orderBy(asc(packs.id));
  return JSON.stringify(rows.map((r) => [r.id, r.sha, r.at ? new Date(r.at).toISOString() : null]));
}

/** The catalog's other packs (imported with `huddle problems import`), from their stored datasets; whether all loaded. */
async function reloadOtherPacks(db: Db, pool: Sandbox): Promise<boolean> {
  let complete = true;
  const others = await db.select().from(packs);
  for (const p of others) {
    if (p.id === defaultPack().pack.id || !p.dataset) continue;
    const [rows] = [await db.select().from(problems).where(eq(problems.packId, p.id))];
    const setups: Record<string, string> = {};
    const pack = validatePack({
      id: p.id, title: p.title, dataset: "dataset.sql", schema: p.schema,
      problems: rows.sort((a, b) => a.position - b.position).map((r) => {
        const tests = (r.tests as StoredTest[]).map((t) => ((setups[t.setup] = t.setup_sql), { name: t.name, setup: t.setup }));
        return { id: r.id, title: r.title, difficulty: r.difficulty, statement: r.statement, solution: r.solution, ordered: r.ordered, ...(tests.length ? { tests } : {}),
          ...(r.hints?.length ? { hints: r.hints } : {}), ...(r.showExpected ? { show_expected: true } : {}) };
      }),
    });
    await syncPack(db, pool, { pack, dataset: p.dataset, setups }, { force: true }).catch((err) => {
      complete = false;
      log.error({ err, pack: p.id }, "pack could not be reloaded into the sandbox");
    });
  }
  return complete;
}
