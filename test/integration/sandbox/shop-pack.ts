/**
 * A small shop pack for hidden test datasets: its main dataset lets a
 * boundary mistake (`<=` for `<`) and a missing tie-breaker pass; its hidden
 * tests (a row on the boundary, tied rows stored against the tie-breaker's
 * order, an empty table) catch them.
 */
import { validatePack, type LoadedPack } from "../../../src/judge/pack";

const DATASET = `create table items (id int primary key, name text not null, price numeric(6,2) not null);
insert into items values (1, 'anvil', 25.00), (2, 'bucket', 4.50), (3, 'chisel', 9.99), (4, 'drill', 40.00), (5, 'easel', 12.00);`;

/** Setup files: a row on the boundary; two rows tied on price, stored in reverse name order. */
const SETUPS = {
  "tests/boundary.sql": "insert into items values (10, 'funnel', 10.00);",
  "tests/ties.sql": "insert into items values (11, 'zither', 4.50), (12, 'abacus', 4.50);",
  "tests/empty.sql": "delete from items;",
};

export function shopPack(extra: Partial<LoadedPack["pack"]["problems"][number]>[] = []): LoadedPack {
  return {
    dataset: DATASET,
    setups: { ...SETUPS },
    pack: validatePack({
      id: "shop", title: "Shop", dataset: "dataset.sql", schema: "shop",
      problems: [
        {
          id: "shop-under-ten", title: "Under ten", difficulty: "easy", ordered: true,
          statement: "Items cheaper than 10, cheapest first, then by name.",
          solution: "select name, price from items where price < 10 order by price, name",
          tests: [{ name: "boundary", setup: "tests/boundary.sql" }, { name: "ties", setup: "tests/ties.sql" }, { name: "empty", setup: "tests/empty.sql" }],
        },
        {
          id: "shop-count", title: "How many", difficulty: "easy", ordered: false,
          statement: "The number of items.", solution: "select count(*) from shop.items",
          tests: [{ name: "ties", setup: "tests/ties.sql" }],
        },
        ...extra,
      ],
    }),
  };
}
