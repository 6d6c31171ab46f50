/**
 * Issue 5 item 9: what a submission might try. `raw` lists the outcomes the
 * sandbox alone may give (the guard is bypassed: the sandbox is the
 * boundary); `judged`, when set, the verdicts through judge() (guard first).
 * After each, the contract checks the same runner still sees the pristine
 * dataset and a fresh session.
 */
import type { Verdict } from "../../../src/judge/judge";

type Seen = "ok" | Verdict;

export interface Attack {
  name: string;
  sql: string;
  schema?: string;
  raw: Seen[];
  judged?: Seen[];
}

const BIG_JOIN = "select count(*) from cd.bookings a, cd.bookings b, cd.bookings c";

export const attacks: Attack[] = [
  { name: "read an application table", sql: "select * from users", raw: ["sql_error"], judged: ["sql_error"] },
  { name: "read an application table through public", sql: "select * from public.users", raw: ["sql_error"], judged: ["sql_error"] },
  { name: "look for application tables in the catalog", sql: "select relname from pg_class where relname in ('users', 'messages', 'conversations') and relname <> 'x' limit 0", raw: ["ok"] },
  // Role changes: refused on PostgreSQL; inside PGlite they only last until the rollback.
  { name: "RESET ROLE", sql: "reset role", raw: ["ok", "sql_error"], judged: ["forbidden"] },
  { name: "SET ROLE to a superuser", sql: "set role postgres", raw: ["ok", "sql_error"], judged: ["forbidden"] },
  { name: "set_config('role', ...)", sql: "select set_config('role', 'postgres', false)", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "session authorization", sql: "set session authorization postgres", raw: ["sql_error", "ok"], judged: ["forbidden"] },
  { name: "query_to_xml on pg_authid", sql: "select query_to_xml('select rolname, rolpassword from pg_authid', true, false, '')", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "pg_read_file", sql: "select pg_read_file('/etc/passwd')", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "lo_import", sql: "select lo_import('/etc/passwd')", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "COPY ... TO PROGRAM", sql: "copy cd.members to program 'id'", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "COPY ... FROM a server file", sql: "copy cd.members from '/etc/passwd'", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "pg_sleep(60) hits the wall-clock limit", sql: "select pg_sleep(60)", raw: ["time_limit_exceeded"], judged: ["forbidden"] },
  { name: "generate_series(1, 1e12)", sql: "select generate_series(1, 1e12)", raw: ["output_limit_exceeded", "time_limit_exceeded"], judged: ["output_limit_exceeded", "time_limit_exceeded"] },
  { name: "huge cartesian product", sql: BIG_JOIN, raw: ["time_limit_exceeded"], judged: ["time_limit_exceeded"] },
  { name: "SET statement_timeout = 0; then a long query", sql: `SET statement_timeout = 0; ${BIG_JOIN}`, raw: ["sql_error"], judged: ["forbidden"] },
  { name: "statement_timeout disabled inside the query itself", sql: `select set_config('statement_timeout', '0', true), (${BIG_JOIN})`, raw: ["sql_error"], judged: ["forbidden"] },
  { name: "multiple statements", sql: "select 1; select 2", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "COMMIT; DROP TABLE", sql: "COMMIT; DROP TABLE cd.bookings", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "COMMIT alone, then the next job", sql: "commit", raw: ["ok"], judged: ["forbidden"] },
  { name: "DROP TABLE", sql: "drop table cd.bookings cascade", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "DELETE from the dataset", sql: "delete from cd.bookings", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "UPDATE the dataset", sql: "update cd.facilities set membercost = 0", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "INSERT into the dataset", sql: "insert into cd.facilities values (99, 'Pool', 0, 0, 0, 0)", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "data-modifying CTE", sql: "with gone as (delete from cd.bookings returning 1) select count(*) from gone", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "switch the transaction to read-write", sql: "select set_config('transaction_read_only', 'off', true)", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "create a temp table", sql: "create temp table stash as select * from cd.members", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "LISTEN", sql: "listen huddle_attack", raw: ["ok", "sql_error"], judged: ["forbidden"] },
  { name: "NOTIFY", sql: "notify huddle_attack, 'hello'", raw: ["ok", "sql_error"], judged: ["forbidden"] },
  { name: "hold an advisory lock", sql: "select pg_advisory_lock(42)", raw: ["ok"], judged: ["forbidden"] },
  { name: "change search_path for the session", sql: "select set_config('search_path', 'public', false)", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "dblink", sql: "select * from dblink('dbname=postgres', 'select 1') as t(x int)", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "create the dblink extension", sql: "create extension dblink", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "DO block", sql: "do $$ begin execute 'drop table cd.bookings'; end $$", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "superuser within one statement (PGlite's session user)", sql: "select set_config('role', 'postgres', true), pg_read_file('/etc/passwd')", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "read other submissions from pg_stat_activity", sql: "select query from pg_stat_activity where pid <> pg_backend_pid() and query <> ''", raw: ["ok", "sql_error"], judged: ["wrong_answer", "sql_error"] },
  { name: "terminate other backends", sql: "select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid()", raw: ["ok", "sql_error"], judged: ["forbidden"] },
];
