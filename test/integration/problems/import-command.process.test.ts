/**
 * `huddle problems import DIR` on a real pg_dump (clubdata): imports, and a
 * broken re-import is refused naming the problem while the old version stays.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createTestDatabase, postgresAvailable } from "../../helpers/services";
import { sharedDataset } from "../../helpers/shared";

const ROOT = new URL("../../..", import.meta.url).pathname;
const ok = await postgresAvailable();
const CLUBDATA = sharedDataset("clubdata.sql");

function run(env: Record<string, string>, dir: string) {
  const p = Bun.spawnSync(["bun", "run", `${ROOT}src/main.ts`, "problems", "import", dir], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: "warn", ...env } });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

describe.skipIf(!ok || !CLUBDATA)("problems import command", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("imports clubdata, refuses a broken version and keeps the old one", async () => {
    const db = await createTestDatabase("imp");
    cleanup.push(db.drop);
    const dir = mkdtempSync(join(tmpdir(), "pack-"));
    cpSync(CLUBDATA!, join(dir, "dataset.sql"));
    const pack = (solution: string) => JSON.stringify({
      id: "clubdata", title: "Country club", dataset: "dataset.sql", schema: "cd",
      problems: [{ id: "clubdata-count", title: "Count members", difficulty: "easy", statement: "How many members are there?", solution, ordered: false }],
    });
    writeFileSync(join(dir, "pack.json"), pack("select count(*) from members"));
    const first = run({ DATABASE_URL: db.url }, dir);
    expect(first.out).toContain("pack clubdata: imported");
    expect(first.code).toBe(0);
    writeFileSync(join(dir, "pack.json"), pack("select * from no_such_table"));
    const broken = run({ DATABASE_URL: db.url }, dir);
    expect(broken.code).toBe(1);
    expect(broken.out).toContain("clubdata-count");
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));
    const [row] = await sql`select solution, expected from problems where id = 'clubdata-count'`;
    expect(row!.solution).toBe("select count(*) from members");
    expect(row!.expected.rows).toEqual([["31"]]);
  }, 120_000);
});
