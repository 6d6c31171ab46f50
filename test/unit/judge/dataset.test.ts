import { describe, expect, test } from "bun:test";
import { DatasetError, prepareDataset } from "../../../src/judge/dataset";
import { sharedDataset } from "../../helpers/shared";

const CLUBDATA = sharedDataset("clubdata.sql");

describe("prepareDataset", () => {
  test("pg_dump noise is neutralised and listed, table and data statements are kept", async () => {
    const text = [
      "\\restrict k",
      "SET statement_timeout = 0;",
      "SELECT pg_catalog.set_config('search_path', '', false);",
      "CREATE EXTENSION IF NOT EXISTS plpgsql WITH SCHEMA pg_catalog;",
      "CREATE SCHEMA shop;",
      "ALTER SCHEMA shop OWNER TO alice;",
      "CREATE TABLE shop.items (id integer, name text);",
      "ALTER TABLE shop.items OWNER TO alice;",
      "COPY shop.items (id, name) FROM stdin;",
      "1\tpen",
      "2\t\\N",
      "\\.",
      "GRANT SELECT ON shop.items TO bob;",
      "SELECT pg_catalog.setval('shop.items_id_seq', 2, true);",
      "VACUUM shop.items;",
      "ANALYZE;",
    ].join("\n");
    const out = await prepareDataset(text, "shop");
    expect(out.steps).toEqual([
      { kind: "sql", sql: "CREATE TABLE shop.items (id integer, name text)", line: 7 },
      { kind: "copy", target: '"shop"."items" ("id", "name")', data: "1\tpen\n2\t\\N\n", line: 9 },
      { kind: "sql", sql: "SELECT pg_catalog.setval('shop.items_id_seq', 2, true)", line: 14 },
      { kind: "sql", sql: "ANALYZE", line: 16 },
    ]);
    expect(out.skipped.map((s) => s.line)).toEqual([1, 2, 3, 4, 5, 6, 8, 13, 15]);
    expect(out.copiedRows).toBe(2);
  });

  test.each([
    ["CREATE TABLE public.users (id int);", /schema "shop", found "public"/],
    ["INSERT INTO shop.t SELECT * FROM public.users;", /found "public"/],
    ["DROP TABLE other.t;", /found "other"/],
    ["CREATE SCHEMA other;", /CREATE SCHEMA other/],
    ["DROP SCHEMA shop CASCADE;", /DROP SCHEMA/],
    ["CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql;", /CreateFunction is not allowed/],
    ["DO $$ BEGIN END $$;", /Do is not allowed/],
    ["COPY t TO PROGRAM 'id';", /only COPY \.\.\. FROM stdin/],
    ["COPY t FROM '/etc/passwd';", /only COPY \.\.\. FROM stdin/],
    ["SELECT pg_read_file('/etc/passwd');", /pg_read_file\(\) is not allowed/],
    ["INSERT INTO t SELECT lo_import('/etc/passwd');", /lo_import/],
    ["BEGIN;", /Transaction is not allowed/],
    ["select 1 +;", /syntax error/],
    ["SET standard_conforming_strings = off;", /standard_conforming_strings = off is not supported/],
  ])("refuses %s", async (sql, reason) => {
    const promise = prepareDataset(`CREATE TABLE t (a int);\n${sql}`, "shop");
    await expect(promise).rejects.toThrow(DatasetError);
    await expect(promise).rejects.toThrow(reason);
    await expect(promise).rejects.toThrow(/^dataset line 2: /);
  });

  test.skipIf(!CLUBDATA)("the clubdata dump prepares with its three COPY blocks", async () => {
    const text = await Bun.file(CLUBDATA!).text();
    const out = await prepareDataset(text, "cd");
    expect(out.steps.filter((s) => s.kind === "copy").map((s) => (s.kind === "copy" ? s.target : ""))).toEqual([
      '"bookings" ("bookid", "facid", "memid", "starttime", "slots")',
      '"facilities" ("facid", "name", "membercost", "guestcost", "initialoutlay", "monthlymaintenance")',
      '"members" ("memid", "surname", "firstname", "address", "zipcode", "telephone", "recommendedby", "joindate")',
    ]);
    expect(out.copiedRows).toBe(4044 + 9 + 31);
    expect(out.skipped.map((s) => s.what)).toContain("SET default_with_oids");
    expect(out.skipped.map((s) => s.what)).toContain("CREATE SCHEMA cd (created by the loader)");
  });
});
