/**
 * The judge's group-committed writes to `submissions`, on both drivers
 * (postgres.js and embedded PGlite): batches keep the single-row rules, so a
 * submission leaves queued/processing exactly once and only one caller is
 * told it ended it, however the calls land in batches.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { openDatabase, rowsOf, type Database } from "../../../src/db/client";
import { migrateDatabase } from "../../../src/db/migrate";
import { SubmissionLedger, type Ending } from "../../../src/modules/problems/ledger";
import { createTestDatabase, postgresAvailable } from "../../helpers/services";

const pg = await postgresAvailable();

const drivers: { name: string; skip: boolean; open: () => Promise<{ database: Database; cleanup: () => Promise<void> }> }[] = [
  {
    name: "postgres.js", skip: !pg,
    open: async () => {
      const { url, drop } = await createTestDatabase("ledger");
      const database = await openDatabase({ databaseUrl: url, dataDir: "/tmp", poolSize: 4 });
      return { database, cleanup: async () => (await database.close(), await drop()) };
    },
  },
  {
    name: "PGlite", skip: false,
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), "huddle-ledger-"));
      const database = await openDatabase({ dataDir: dir });
      return { database, cleanup: async () => (await database.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  },
];

const ending = (id: string, verdict: string, at = new Date()): Ending => ({
  id, status: "completed", verdict, rowsReturned: 1, durationMs: 3, error: null, finishedAt: at,
  result: { columns: [{ name: "n", type: "int4" }], rows: [["1"]], sqlstate: null, position: null, hint: null },
});

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`submission ledger (${driver.name})`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    let ledger: SubmissionLedger;
    const userId = Bun.randomUUIDv7();

    beforeAll(async () => {
      ({ database, cleanup } = await driver.open());
      await migrateDatabase(database);
      const db = database.db;
      await db.execute(sql`insert into users (id, username, email, password_hash) values (${userId}, 'ledger', 'ledger@example.test', 'x')`);
      await db.execute(sql`insert into packs (id, title, schema, dataset_sha256) values ('lp', 'Ledger pack', 'lp', 'sha')`);
      await db.execute(sql`insert into problems (id, pack_id, title, difficulty, statement, solution, expected)
        values ('lp-one', 'lp', 'One', 'easy', 'Return one.', 'select 1', '{"columns":[],"rows":[]}'::jsonb)`);
      ledger = new SubmissionLedger(db);
    }, 60_000);
    afterAll(async () => cleanup?.());

    async function queued(n: number): Promise<string[]> {
      const ids = Array.from({ length: n }, () => Bun.randomUUIDv7());
      for (const id of ids) await database.db.execute(sql`insert into submissions (id, user_id, problem_id, sql_query) values (${id}, ${userId}, 'lp-one', 'select 1')`);
      return ids;
    }
    const row = async (id: string) => rowsOf(await database.db.execute(sql`select status, verdict, attempts, result, finished_at from submissions where id = ${id}`))[0]!;

    test("starts in one batch each set their own attempt and get what the worker needs", async () => {
      const ids = await queued(20);
      const started = await Promise.all(ids.map((id, i) => ledger.start(id, 1 + (i % 3))));
      expect(started.map((s) => s?.id)).toEqual(ids);
      expect(started.every((s) => s!.userId === userId && s!.problemId === "lp-one" && s!.sqlQuery === "select 1")).toBe(true);
      for (const [i, id] of ids.entries()) expect(await row(id)).toMatchObject({ status: "processing", attempts: 1 + (i % 3) });
    });

    test("each of many endings in flight together is stored, and each caller gets its own row back", async () => {
      const ids = await queued(30);
      await Promise.all(ids.map((id) => ledger.start(id, 1)));
      const done = await Promise.all(ids.map((id, i) => ledger.finish(ending(id, i % 2 ? "accepted" : "wrong_answer"))));
      expect(done.map((d) => d?.id)).toEqual(ids);
      expect(done.map((d) => d!.verdict)).toEqual(ids.map((_, i) => (i % 2 ? "accepted" : "wrong_answer")));
      expect(done.every((d) => d!.status === "completed" && d!.finishedAt instanceof Date && d!.createdAt instanceof Date)).toBe(true);
      expect(done[0]!.result).toMatchObject({ rows: [["1"]] });
      const stored = await row(ids[1]!);
      expect(stored).toMatchObject({ status: "completed", verdict: "accepted" });
    });

    test("the same submission ended twice in one batch, and again later: exactly one caller wins", async () => {
      const [a, b] = await queued(2);
      await Promise.all([ledger.start(a!, 1), ledger.start(b!, 1)]);
      // The first call goes alone; the next three share a batch, two of them for `b`.
      const results = await Promise.all([ledger.finish(ending(a!, "accepted")), ledger.finish(ending(b!, "accepted")), ledger.finish(ending(b!, "wrong_answer")), ledger.finish(ending(a!, "wrong_answer"))]);
      expect(results.map((r) => r?.verdict ?? null)).toEqual(["accepted", "accepted", null, null]);
      expect(await ledger.finish(ending(b!, "wrong_answer"))).toBeNull();
      expect(await row(b!)).toMatchObject({ status: "completed", verdict: "accepted" });
    });

    test("a terminal or unknown submission is not started again", async () => {
      const [id] = await queued(1);
      await ledger.start(id!, 1);
      await ledger.finish(ending(id!, "accepted"));
      const [again, unknown] = await Promise.all([ledger.start(id!, 2), ledger.start(Bun.randomUUIDv7(), 1)]);
      expect(again).toBeNull();
      expect(unknown).toBeNull();
      expect(await row(id!)).toMatchObject({ status: "completed", attempts: 1 });
    });

    test("text the judge stores (quotes, backslashes, emoji, JSON-looking errors) round-trips through the batch", async () => {
      const [id] = await queued(1);
      await ledger.start(id!, 1);
      const nasty = `syntax error at or near "'" \\ \u{1F600} {"a":1} \n\t`;
      const done = await ledger.finish({ ...ending(id!, "sql_error"), error: nasty, result: { columns: [], rows: [[nasty, null]], sqlstate: "42601", position: 3, hint: null } });
      expect(done!.error).toBe(nasty);
      expect(done!.result).toMatchObject({ rows: [[nasty, null]], sqlstate: "42601", position: 3 });
    });
  });
}
