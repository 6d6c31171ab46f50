import { describe, expect, test } from "bun:test";
import { findTie, orderProbe } from "../../../src/judge/ordering";
import { namedVariantSchema, retargetSchema } from "../../../src/judge/hidden-tests";

describe("ordering check: reading the sort keys", () => {
  test("positions and select-list aliases are output columns; other keys are appended to the select list", async () => {
    expect(await orderProbe("select a, count(*) as n from t group by 1 order by n desc, 1")).toEqual({ keyColumns: [1, 0], augmented: null });
    expect(await orderProbe("select b.title, count(*) as n from books b group by 1 order by n desc, lower(b.title) nulls last")).toEqual({
      keyColumns: [1],
      augmented: 'select b.title, count(*) as n , (lower(b.title)) as "__order_1" from books b group by 1 order by n desc, lower(b.title) nulls last',
    });
    // An expression in parentheses keeps them; multi-byte text before it does not shift the cut.
    expect((await orderProbe("select 'é' as x, a from t order by (a + 1) desc, a using <"))!.augmented)
      .toBe(`select 'é' as x, a , ((a + 1)) as "__order_1" , (a) as "__order_2" from t order by (a + 1) desc, a using <`);
  });

  test("a LIMIT is dropped from the probe and kept as the window of rows that count", async () => {
    expect(await orderProbe("select title, price as p from books order by p desc limit 5 offset 2;")).toEqual({
      keyColumns: [1], augmented: "select title, price as p from books order by p desc ", window: { offset: 2, count: 5 },
    });
    expect(await orderProbe("select a from t union select b from u order by 1 fetch first 3 rows only")).toEqual({
      keyColumns: [0], augmented: "select a from t union select b from u order by 1 ", window: { offset: 0, count: 3 },
    });
    expect((await orderProbe("select a from t limit 3")).unchecked).toMatch(/LIMIT but no ORDER BY/);
    expect((await orderProbe("select a from t order by a limit (select 1)")).unchecked).toMatch(/not a constant/);
  });

  test("with a window: ordered problems care about ties touching kept rows, unordered ones about ties across the cut", () => {
    const rows = [["a", "3"], ["b", "2"], ["c", "2"], ["d", "1"], ["e", "1"]];
    expect(findTie(rows, [1], 0, { offset: 0, count: 2 }, true)).toEqual([2, 3]);
    expect(findTie(rows, [1], 0, { offset: 0, count: 2 }, false)).toEqual([2, 3]);
    expect(findTie(rows, [1], 0, { offset: 0, count: 3 }, false)).toBeNull();
    expect(findTie(rows, [1], 0, { offset: 0, count: 3 }, true)).toEqual([2, 3]);
    expect(findTie(rows, [1], 0, { offset: 0, count: 1 }, true)).toBeNull();
  });

  test("what cannot be checked says why", async () => {
    expect((await orderProbe("select a from t")).unchecked).toMatch(/no ORDER BY/);
    expect((await orderProbe("select * from t order by 2")).unchecked).toMatch(/after a `\*`/);
    expect((await orderProbe("select a from t union select b from u order by a + 1")).unchecked).toMatch(/could not be added/);
  });

  test("a tie is two different rows with equal keys; equal rows are no tie", () => {
    expect(findTie([["a", "1"], ["b", "1"]], [1], 0)).toEqual([1, 2]);
    expect(findTie([["a", "1"], ["a", "1"], ["b", "2"]], [1], 0)).toBeNull();
    expect(findTie([["a", "x"], ["b", "x"]], [], 1)).toEqual([1, 2]);
    expect(findTie([["a", "x"], ["b", "y"]], [], 1)).toBeNull();
  });
});

describe("hidden test copies: pointing a query at a copy", () => {
  test("qualifiers naming the pack's schema (tables, columns, types; quoted or not) are rewritten, nothing else", async () => {
    expect(await retargetSchema(`select cd.members.memid, x::cd.mood from "cd".members join CD . bookings using (memid) where name = 'cd.x'`, "cd", "cd__t1"))
      .toBe(`select "cd__t1".members.memid, x::"cd__t1".mood from "cd__t1".members join "cd__t1" . bookings using (memid) where name = 'cd.x'`);
    expect(await retargetSchema("select 'é', m.cd from members m", "cd", "cd__t1")).toBe("select 'é', m.cd from members m");
  });

  test("a copy's schema named in a query is found", async () => {
    expect(await namedVariantSchema("select * from shop__t2.items")).toBe("shop__t2");
    expect(await namedVariantSchema("select shop__t1.items.id from items")).toBe("shop__t1");
    expect(await namedVariantSchema("select * from shop.items")).toBeUndefined();
  });
});
