/**
 * An in-memory (PGlite) sandbox starts empty at every start: prepareSandbox
 * loads the default pack and every other catalogued pack again, hidden test
 * copies included (their setup SQL is kept in the catalog for this).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { openTestDatabase } from "../../helpers/app";
import { problems } from "../../../src/db/schema";
import { judge } from "../../../src/judge/judge";
import { prepareSandbox, syncPack, type StoredTest } from "../../../src/modules/problems/catalog";
import { PgliteSandboxBackend } from "../../../src/sandbox/pglite-sandbox";
import { RunnerPool } from "../../../src/sandbox/pool";
import type { Database } from "../../../src/db/client";
import { shopPack } from "../sandbox/shop-pack";

const LIMITS = { timeoutMs: 5000, maxRows: 1000 };
const openPool = async () => new RunnerPool(await PgliteSandboxBackend.create({ builderIdleMs: 500 }), { size: 1, queueTimeoutMs: 30_000 });

describe("catalog: a fresh PGlite sandbox gets every pack back, hidden tests included", () => {
  let database: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase("pglite"));
  }, 60_000);
  afterAll(async () => {
    await drop?.();
  });

  test("import, then a new sandbox from the catalog alone judges on the same hidden tests", async () => {
    const first = await openPool();
    try {
      expect(await syncPack(database.db, first, shopPack())).toBe("imported");
      expect(await syncPack(database.db, first, shopPack())).toBe("unchanged");
      const changed = shopPack();
      changed.setups!["tests/boundary.sql"] += "\n-- edited";
      expect(await syncPack(database.db, first, changed)).toBe("imported"); // a setup file is part of the version
    } finally {
      await first.close();
    }
    const fresh = await openPool();
    try {
      await prepareSandbox(database.db, fresh);
      const [row] = await database.db.select().from(problems).where(eq(problems.id, "shop-under-ten"));
      const tests = (row!.tests as StoredTest[]).map(({ name, schema, expected }) => ({ name, schema, expected }));
      expect(tests.map((t) => t.schema)).toEqual(["shop__t1", "shop__t2", "shop__t3"]);
      const problem = { schema: "shop", ordered: true, expected: row!.expected as never, tests };
      expect(await judge(fresh, problem, row!.solution, LIMITS)).toMatchObject({ verdict: "accepted" });
      expect(await judge(fresh, problem, "select name, price from items where price <= 10 order by price, name", LIMITS))
        .toMatchObject({ verdict: "wrong_answer", error: "failed on: hidden test 1 (wrong number of rows)" });
    } finally {
      await fresh.close();
    }
  }, 180_000);
});
