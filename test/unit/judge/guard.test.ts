import { describe, expect, test } from "bun:test";
import { guardQuery } from "../../../src/judge/guard";

async function verdictOf(sql: string): Promise<string> {
  const r = await guardQuery(sql);
  return r.ok ? "ok" : r.verdict;
}

describe("guardQuery", () => {
  test.each([
    "select 1",
    "select * from members;",
    "with recent as (select * from bookings where starttime > now() - interval '1 day') select count(*) from recent",
    "with recursive r(n) as (select 1 union all select n + 1 from r where n < 5) select n from r",
    "values (1, 'a'), (2, 'b')",
    "table members",
    "select 1 union select 2 except select 3",
    "select generate_series(1, 3), extract(year from now()), substring('abc' from 2), trim(' a '), position('a' in 'ba')",
    "select now() at time zone 'UTC', 'a' similar to 'b', count(*) filter (where true), int4('7'), coalesce(null, 1)",
    "select m.surname, (m).firstname, (jsonb_each('{\"a\": 1}')).key from members m",
    "select 'pg_sleep(1); drop table x' as harmless_text",
    "select 'ERROR' as status, 1 as \"ERROR\"",
  ])("allows a read query: %s", async (sql) => {
    expect(await guardQuery(sql)).toEqual({ ok: true });
  });

  test.each([
    ["select 1; select 2", /only one statement/],
    ["COMMIT; DROP TABLE cd.members", /only one statement/],
    ["SET statement_timeout = 0; select 1", /only one statement/],
    ["SET statement_timeout = 0", /SET\/RESET is not allowed/],
    ["RESET ROLE", /SET\/RESET/],
    ["set role postgres", /SET\/RESET/],
    ["begin", /transaction control/],
    ["commit", /transaction control/],
    ["copy members to program 'id'", /COPY/],
    ["copy (select 1) to stdout", /COPY/],
    ["do $$ begin perform 1; end $$", /DO/],
    ["listen chan", /LISTEN/],
    ["notify chan, 'x'", /NOTIFY/],
    ["create temp table t as select 1", /CREATE TABLE AS/],
    ["create table t (a int)", /CREATE/],
    ["drop table members", /DROP/],
    ["insert into members values (1)", /INSERT/],
    ["update members set surname = 'x'", /UPDATE/],
    ["delete from members", /DELETE/],
    ["explain analyze delete from members", /EXPLAIN/],
    ["prepare p as select 1", /PREPARE/],
    ["select * into t2 from members", /SELECT INTO/],
    ["select * from members for update", /row locking/],
    ["with gone as (delete from members returning *) select * from gone", /data-modifying DELETE/],
    ["with x as (select 1) , y as (insert into t values (1) returning 1) select * from x", /data-modifying INSERT/],
    ["select pg_read_file('/etc/passwd')", /pg_read_file\(\) is not allowed/],
    ["select * from pg_catalog.pg_read_binary_file('/etc/passwd')", /pg_read_binary_file/],
    ["select pg_ls_dir('.')", /pg_ls_dir/],
    ["select lo_import('/etc/passwd')", /lo_import/],
    ["select dblink('host=x', 'select 1')", /dblink/],
    ["select query_to_xml('select * from pg_authid', true, false, '')", /query_to_xml/],
    ["select set_config('role', 'postgres', false)", /set_config/],
    ["select 1 where exists (select pg_sleep(60))", /pg_sleep/],
    ["select pg_sleep_for('1 minute')", /pg_sleep_for/],
    ["select pg_terminate_backend(1)", /pg_terminate_backend/],
    ["select pg_cancel_backend(1)", /pg_cancel_backend/],
    ["select pg_reload_conf()", /pg_reload_conf/],
    ["select pg_notify('c', 'x')", /pg_notify/],
    ["select \"PG_SLEEP\"(1)", /pg_sleep/],
    ["select nextval('s')", /nextval/],
    // Issue item 2: an allow-list, and calls written as field reads.
    ["select current_setting('data_directory')", /current_setting/],
    ["select pg_backend_pid()", /pg_backend_pid/],
    ["select ts_stat('select 1')", /ts_stat/],
    ["select cursor_to_xml('c', 1, false, false, '')", /cursor_to_xml/],
    ["select database_to_xml(true, false, '')", /database_to_xml/],
    ["select pg_stat_get_backend_activity(s) from pg_stat_get_backend_idset() s", /pg_stat_get_backend/],
    ["select count((g::bigint).pg_advisory_lock) from generate_series(1, 5000) g", /pg_advisory_lock.*field/],
    ["select (42::bigint).pg_advisory_lock", /pg_advisory_lock/],
    ["select (5::float8).pg_sleep", /pg_sleep/],
    ["select t.pg_advisory_lock from (select 42::bigint) t(x)", /pg_advisory_lock/],
    ["select cd.x.pg_sleep from cd.x", /pg_sleep/],
    ["select some_new_function(1)", /some_new_function/],
  ])("forbids %s", async (sql, reason) => {
    const r = await guardQuery(sql);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.verdict).toBe("forbidden");
      expect(r.reason).toMatch(reason);
    }
  });

  test("an empty query or only a comment is forbidden", async () => {
    expect(await verdictOf("")).toBe("forbidden");
    expect(await verdictOf("-- just a comment")).toBe("forbidden");
  });

  test("a syntax error is a sql_error with SQLSTATE 42601, like the server would answer", async () => {
    const r = await guardQuery("selec * from members");
    expect(r).toMatchObject({ ok: false, verdict: "sql_error", sqlstate: "42601" });
    if (!r.ok) expect(r.reason).toMatch(/syntax error/);
  });

  test("a syntax error carries the parser's 1-based character position, as PostgreSQL counts it", async () => {
    expect(await guardQuery("selec * from members")).toMatchObject({ position: 1 });
    expect(await guardQuery("select * form members")).toMatchObject({ reason: 'syntax error at or near "form"', position: 10 });
    // Characters, not bytes: "é" is one.
    expect(await guardQuery("select 'é', from members")).toMatchObject({ position: 13 });
    expect(await guardQuery("select 1 +")).toMatchObject({ reason: "syntax error at end of input", position: 11 });
  });
});
