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
import { savedSnapshots } from "../../../src/sandbox/saved-snapshot";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packs } from "../../../src/db/schema";
import { RunnerPool } from "../../../src/sandbox/pool";
import type { Database } from "../../../src/db/client";
import { shopPack } from "../sandbox/shop-pack";

const LIMITS = { timeoutMs: 5000, maxRows: 1000 };
const openPool = async () => new RunnerPool(await PgliteSandboxBackend.create({ builderIdleMs: 500 }), { size: 1, queueTimeoutMs: 30_000 });

/** A pool whose backend keeps its snapshot in `dir`, and what it did: loaded a pack (the builder ran) or not. */
async function keptPool(dir: string) {
  const backend = await PgliteSandboxBackend.create({ builderIdleMs: 500 });
  let loads = 0;
  const loadPack = backend.loadPack.bind(backend);
  backend.loadPack = (load) => (loads++, loadPack(load));
  return { pool: new RunnerPool(backend, { size: 1, queueTimeoutMs: 30_000 }), saved: savedSnapshots(backend, dir), loads: () => loads };
}

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

  test("the loaded packs are kept in a snapshot file: the next sandbox starts from it without loading, until the catalog changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "huddle-kept-"));
    const files = () => readdirSync(dir).filter((f) => f.endsWith(".tar"));
    try {
      const first = await keptPool(dir);
      try {
        await prepareSandbox(database.db, first.pool, first.saved);
        expect(first.loads()).toBeGreaterThanOrEqual(2); // the default pack and the shop pack
      } finally {
        await first.pool.close();
      }
      expect(files().length).toBe(1);

      const second = await keptPool(dir);
      try {
        await prepareSandbox(database.db, second.pool, second.saved);
        expect(second.loads()).toBe(0);
        const [row] = await database.db.select().from(problems).where(eq(problems.id, "shop-under-ten"));
        const tests = (row!.tests as StoredTest[]).map(({ name, schema, expected }) => ({ name, schema, expected }));
        const problem = { schema: "shop", ordered: true, expected: row!.expected as never, tests };
        expect(await judge(second.pool, problem, row!.solution, LIMITS)).toMatchObject({ verdict: "accepted" });
        expect(await judge(second.pool, problem, "select name, price from items where price <= 10 order by price, name", LIMITS))
          .toMatchObject({ verdict: "wrong_answer", error: "failed on: hidden test 1 (wrong number of rows)" });
      } finally {
        await second.pool.close();
      }
      expect(files().length).toBe(1); // closing the backend leaves the kept file alone

      // Any import changes the catalog (its import time): the kept snapshot no longer applies.
      await database.db.update(packs).set({ importedAt: new Date(Date.now() + 60_000) }).where(eq(packs.id, "shop"));
      const third = await keptPool(dir);
      try {
        await prepareSandbox(database.db, third.pool, third.saved);
        expect(third.loads()).toBeGreaterThanOrEqual(2);
      } finally {
        await third.pool.close();
      }
      expect(files().length).toBe(1); // the new one replaced the old one
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
