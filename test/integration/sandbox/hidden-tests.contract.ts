/**
 * Hidden test datasets and the ordering check, on whichever backend the
 * sandbox contract runs (both), with the shop pack (shop-pack.ts) and the
 * default pack: wrong answers the main dataset lets pass are caught by hidden
 * tests, whose rows are never shown.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import type { RunnerPool } from "../../../src/sandbox/pool";
import { importPack, judge, type ImportedPack } from "../../../src/judge/judge";
import { PackError } from "../../../src/judge/pack";
import { shopPack } from "./shop-pack";
import type { RunLimits } from "../../../src/sandbox/types";
import { defaultPack } from "../../../src/judge/default-pack";

export function hiddenTestsContract(harness: () => { pool: RunnerPool }, limits: RunLimits): void {
  describe("hidden test datasets", () => {
    let shop: ImportedPack;
    beforeAll(async () => {
      shop = await importPack(harness().pool, shopPack());
      // After a load the runner starts a fresh engine from the new snapshot (PGlite: seconds on a loaded machine): not in a test's time.
      await harness().pool.run("shop", "select 1", { ...limits, timeoutMs: 30_000 });
    }, 90_000);
    const problem = (id: string) => {
      const p = shop.problems.find((x) => x.id === id)!;
      return { schema: "shop", ordered: p.ordered, expected: p.expected, tests: p.hiddenTests };
    };

    test("each test's expected result comes from the solution on the dataset plus its setup; problems share a setup's copy", () => {
      const [under, count] = [shop.problems[0]!, shop.problems[1]!];
      expect(under.expected.rows).toEqual([["bucket", "4.50"], ["chisel", "9.99"]]);
      expect(under.hiddenTests.map((t) => [t.name, t.schema, t.expected.rows.length])).toEqual([
        ["boundary", "shop__t1", 2], ["ties", "shop__t2", 4], ["empty", "shop__t3", 0],
      ]);
      expect(under.hiddenTests[1]!.expected.rows.slice(0, 2)).toEqual([["abacus", "4.50"], ["bucket", "4.50"]]);
      expect(count.hiddenTests).toEqual([{ name: "ties", schema: "shop__t2", expected: { columns: [{ name: "count", type: "int8" }], rows: [["7"]] } }]);
      expect(shop.warnings).toEqual([]);
    });

    test("the right answer is accepted on every dataset, written with or without the schema name", async () => {
      for (const sql of ["select name, price from items where price < 10 order by price, name",
        'select i.name, i.price from "shop".items i where i.price < 10.00 order by 2, shop.i.name']) {
        expect(await judge(harness().pool, problem("shop-under-ten"), sql.replace("shop.i.name", "1"), limits)).toMatchObject({ verdict: "accepted", error: null });
      }
      expect(await judge(harness().pool, problem("shop-count"), "select count(*) from shop.items", limits)).toMatchObject({ verdict: "accepted" });
    }, 30_000);

    test("only a hidden test's own run can read its copy: any other run is refused by the database itself, past the guard", async () => {
      // pool.run has no guard (the judge's guard refuses naming a copy): these reach the server as written.
      const copy = "select count(*) from shop__t1.items";
      expect(await harness().pool.run("shop", copy, limits)).toMatchObject({ ok: false, verdict: "sql_error", sqlstate: "42501" });
      expect(await harness().pool.run("shop__t1", copy, limits)).toMatchObject({ ok: true });
      // A job's queries share a transaction on PostgreSQL: a later query on the main dataset is back to the runner role.
      const [hidden, main] = await harness().pool.job(async (run) => [await run("shop__t1", copy, limits), await run("shop", copy, limits)]);
      expect(hidden).toMatchObject({ ok: true });
      expect(main).toMatchObject({ ok: false, sqlstate: "42501" });
      // The hidden role reads copies, not the main dataset's own schema; the runner role reads that.
      expect(await harness().pool.run("shop", "select count(*) from shop.items", limits)).toMatchObject({ ok: true });
    }, 30_000);

    test("a boundary mistake (<= for <) passes the main dataset but is rejected by the hidden boundary test, without its rows", async () => {
      const r = await judge(harness().pool, problem("shop-under-ten"), "select name, price from items where price <= 10 order by price, name", limits);
      expect(r).toMatchObject({ verdict: "wrong_answer", error: "failed on: hidden test 1 (wrong number of rows)" });
      // What is shown is the main dataset's output, which matched.
      expect(r.rows).toEqual([["bucket", "4.50"], ["chisel", "9.99"]]);
      expect(JSON.stringify(r)).not.toContain("funnel");
    }, 30_000);

    test("a missing tie-breaker passes the main dataset but is rejected by the hidden ties test", async () => {
      const r = await judge(harness().pool, problem("shop-under-ten"), "select name, price from items where price < 10 order by price", limits);
      expect(r).toMatchObject({ verdict: "wrong_answer", error: "failed on: hidden test 2 (right rows in the wrong order)" });
      expect(JSON.stringify(r)).not.toMatch(/zither|abacus/);
    }, 30_000);

    test("an error only the hidden data raises names the test, not the data", async () => {
      const r = await judge(harness().pool, problem("shop-under-ten"),
        "select name, price from items where price < 10 and 1 / (select count(*) from items) >= 0 order by price, name", limits);
      expect(r).toMatchObject({ verdict: "sql_error", error: "failed on: hidden test 3 (error 22012)", sqlstate: "22012" });
    }, 30_000);

    test("the copies are readable only through the judge: naming one is forbidden", async () => {
      const r = await judge(harness().pool, problem("shop-count"), "select count(*) from shop__t2.items", limits);
      expect(r).toMatchObject({ verdict: "forbidden" });
      expect(r.error).toMatch(/shop__t2 holds hidden test data/);
    }, 30_000);

    test("an ordered solution whose ORDER BY leaves ties on some dataset is imported with a warning naming the problem and dataset", async () => {
      const loose = await importPack(harness().pool, shopPack([{
        id: "shop-by-price", title: "By price", difficulty: "easy", ordered: true, statement: "Items by price.",
        solution: "select name from items order by price", tests: [{ name: "ties", setup: "tests/ties.sql" }],
      }, {
        id: "shop-by-alias", title: "By alias", difficulty: "easy", ordered: true, statement: "Prices, rounded.",
        solution: "select round(price) as p, name from items order by p, name",
      }, {
        id: "shop-two-cheapest", title: "Two cheapest", difficulty: "easy", ordered: false, statement: "The two cheapest items.",
        solution: "select name from items order by price limit 2", tests: [{ name: "ties", setup: "tests/ties.sql" }],
      }, {
        id: "shop-top-two", title: "Top two", difficulty: "easy", ordered: false, statement: "The two dearest items.",
        solution: "select name from items order by price desc, name limit 2", tests: [{ name: "ties", setup: "tests/ties.sql" }],
      }]));
      expect(loose.warnings).toEqual([
        expect.stringMatching(/^problem shop-by-price \(#3\): its ORDER BY leaves rows \d and \d tied on test ties; add a tie-breaker$/),
        // Three items at 4.50 and a LIMIT of 2: which two is not defined (the main dataset has one at 4.50: no warning there).
        expect.stringMatching(/^problem shop-two-cheapest \(#5\): its ORDER BY leaves rows \d and \d tied on test ties \(before its LIMIT\); add a tie-breaker$/),
      ]);
    }, 60_000);

    test("the default pack: hidden tests on most problems, no ordering warning, and classic mistakes that pass the main dataset are caught", async () => {
      const store = await importPack(harness().pool, defaultPack());
      expect(store.problems.length).toBeGreaterThanOrEqual(40);
      expect(store.warnings).toEqual([]);
      expect(store.problems.filter((p) => p.hiddenTests.length > 0).length).toBeGreaterThanOrEqual(30);
      const of = (id: string) => {
        const p = store.problems.find((x) => x.id === `bookstore-${id}`)!;
        return { schema: "bookstore", ordered: p.ordered, expected: p.expected, tests: p.hiddenTests };
      };
      const mistakes: [string, string, RegExp][] = [
        ["cheap-books", "select title, price from books where price <= 10 order by price, title", /^failed on: hidden test 1 /],
        ["cheap-books", "select title, price from books where price < 10 order by price", /^failed on: hidden test 2 \(right rows in the wrong order\)$/],
        ["thin-books", "select title, pages from books where pages <= 200 order by pages, title", /^failed on: hidden test 1 /],
        ["quiet-days-march-2024", `select d::date as day from generate_series(date '2024-03-01', date '2024-03-31', interval '1 day') d
          where not exists (select 1 from orders o where o.ordered_at between d and d + interval '1 day') order by 1`, /^failed on: hidden test 1 /],
        ["city-revenue", `select c.city, sum(i.quantity * i.unit_price) as revenue from customers c join orders o on o.customer_id = c.customer_id
          join order_items i on i.order_id = o.order_id where o.status <> 'cancelled' group by c.city order by revenue desc, c.city`, /^failed on: hidden test 1 /],
        ["pages-rank-in-genre", `select g.name, b.title, b.pages, rank() over (partition by b.genre_id order by b.pages desc) from books b
          join genres g on g.genre_id = b.genre_id order by 1, 4, 2`, /^failed on: hidden test 1 /],
        ["best-customer-per-city", `select distinct on (c.city) c.city, c.customer_id, sum(i.quantity * i.unit_price) from customers c
          join orders o on o.customer_id = c.customer_id join order_items i on i.order_id = o.order_id where o.status <> 'cancelled'
          group by c.city, c.customer_id order by c.city, 3 desc`, /^failed on: hidden test 1 /],
      ];
      for (const [id, sql, error] of mistakes) {
        const r = await judge(harness().pool, of(id), sql, limits);
        expect({ id, verdict: r.verdict, error: r.error }).toEqual({ id, verdict: "wrong_answer", error: expect.stringMatching(error) });
      }
      for (const p of store.problems) {
        const r = await judge(harness().pool, of(p.id.replace("bookstore-", "")), p.solution, limits);
        expect({ id: p.id, verdict: r.verdict }).toEqual({ id: p.id, verdict: "accepted" });
      }
    }, 120_000);

    test("a broken setup file is refused naming the problem, file and line; the previous version stays", async () => {
      const bad = shopPack();
      bad.setups!["tests/ties.sql"] = "insert into items values (11, 'x', 1);\ninsert into items values (11, 'dup', 2);";
      const err = await importPack(harness().pool, bad).catch((e) => e);
      expect(err).toBeInstanceOf(PackError);
      expect(err.message).toMatch(/test setup tests\/ties\.sql line 2: .*duplicate key/);
      const foreign = shopPack();
      foreign.setups!["tests/empty.sql"] = "delete from public.users;";
      expect((await importPack(harness().pool, foreign).catch((e) => e)).message).toMatch(/shop-under-ten: test setup tests\/empty\.sql line 1: .*schema "shop", found "public"/);
      expect(await judge(harness().pool, problem("shop-under-ten"), "select name, price from items where price <= 10 order by price, name", limits))
        .toMatchObject({ verdict: "wrong_answer", error: "failed on: hidden test 1 (wrong number of rows)" });
    }, 60_000);
  });
}
