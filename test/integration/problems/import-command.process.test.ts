/**
 * `huddle problems import DIR` on a real pg_dump (clubdata): imports, and a
 * broken re-import is refused naming the problem while the old version stays.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
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
  }, 30_000);

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

  test("clubdata as a second pack beside the default one, with hidden tests: every setup file is checked, ties are warned about", async () => {
    const db = await createTestDatabase("imp2");
    cleanup.push(db.drop);
    const def = run({ DATABASE_URL: db.url }, `${ROOT}src/judge/packs/default`);
    expect(def.out).toMatch(/pack bookstore: imported, \d+ problems/);
    const dir = mkdtempSync(join(tmpdir(), "pack-"));
    cpSync(CLUBDATA!, join(dir, "dataset.sql"));
    mkdirSync(join(dir, "tests"));
    // A facility whose member cost is exactly a fiftieth of its upkeep, and two guest bookings tied on start time.
    writeFileSync(join(dir, "tests/boundary.sql"), "insert into cd.facilities values (9, 'Squash Court 2', 2, 10, 5000, 100);");
    writeFileSync(join(dir, "tests/ties.sql"), `insert into bookings values (5000, 7, 0, '2012-09-14 08:00', 2);
      insert into bookings values (5001, 4, 0, '2012-09-14 08:00', 2);`);
    const problems = [
      {
        id: "clubdata-cheap-upkeep", title: "Cheap to book", difficulty: "easy", ordered: true,
        statement: "Facilities that members pay for, but less than a fiftieth of the monthly maintenance. Name and member cost, by name.",
        solution: "select name, membercost from cd.facilities where membercost > 0 and membercost < monthlymaintenance / 50 order by name",
        tests: [{ name: "boundary", setup: "tests/boundary.sql" }],
      },
      {
        id: "clubdata-guests-sept-14", title: "Guests on the 14th", difficulty: "medium", ordered: true,
        statement: "Guest bookings (member 0) on 14 September 2012: start time and facility name, by start time then facility.",
        solution: `select b.starttime, f.name from cd.bookings b join cd.facilities f on f.facid = b.facid
                   where b.memid = 0 and b.starttime >= '2012-09-14' and b.starttime < '2012-09-15' order by b.starttime, f.name`,
        tests: [{ name: "ties", setup: "tests/ties.sql" }],
      },
      {
        id: "clubdata-by-joindate", title: "Newest members", difficulty: "easy", ordered: true,
        statement: "Members' surnames by join month.", solution: "select surname from cd.members order by date_trunc('month', joindate)",
      },
    ];
    const write = () => writeFileSync(join(dir, "pack.json"), JSON.stringify({ id: "clubdata", title: "Country club", dataset: "dataset.sql", schema: "cd", problems }));
    write();
    const club = run({ DATABASE_URL: db.url }, dir);
    expect(club.out).toContain("pack clubdata: imported, 3 problems");
    expect(club.out).toMatch(/warning: problem clubdata-by-joindate \(#3\): its ORDER BY leaves rows \d+ and \d+ tied on the main dataset/);
    expect(club.code).toBe(0);
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));
    expect((await sql`select id from packs order by id`).map((r) => r.id)).toEqual(["bookstore", "clubdata"]);
    const [cheap] = await sql`select expected, tests from problems where id = 'clubdata-cheap-upkeep'`;
    expect(cheap!.tests).toMatchObject([{ name: "boundary", setup: "tests/boundary.sql", schema: "cd__t1" }]);
    expect(cheap!.tests[0].expected.rows).toEqual(cheap!.expected.rows); // the boundary row is (rightly) left out
    const [guests] = await sql`select expected, tests from problems where id = 'clubdata-guests-sept-14'`;
    expect(guests!.tests[0].expected.rows.length).toBe(guests!.expected.rows.length + 2);
    // A setup file that does not load refuses the whole import, naming the file and line.
    writeFileSync(join(dir, "tests/ties.sql"), "insert into bookings values (5000, 7, 0, '2012-09-14 08:00', 2);\ninsert into nowhere values (1);");
    const broken = run({ DATABASE_URL: db.url }, dir);
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/test setup tests\/ties\.sql line 2: .*nowhere/);
    problems[1]!.tests = [{ name: "ties", setup: "tests/missing.sql" }];
    write();
    const missing = run({ DATABASE_URL: db.url }, dir);
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/clubdata-guests-sept-14: cannot read test setup tests\/missing\.sql/);
  }, 180_000);
});
