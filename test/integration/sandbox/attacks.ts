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
  { name: "pg_sleep(60) is revoked", sql: "select pg_sleep(60)", raw: ["sql_error"], judged: ["forbidden"] },
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
  { name: "hold an advisory lock", sql: "select pg_advisory_lock(42)", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "change search_path for the session", sql: "select set_config('search_path', 'public', false)", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "dblink", sql: "select * from dblink('dbname=postgres', 'select 1') as t(x int)", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "create the dblink extension", sql: "create extension dblink", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "DO block", sql: "do $$ begin execute 'drop table cd.bookings'; end $$", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "superuser within one statement (PGlite's session user)", sql: "select set_config('role', 'postgres', true), pg_read_file('/etc/passwd')", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "read other submissions from pg_stat_activity", sql: "select query from pg_stat_activity where pid <> pg_backend_pid() and query <> ''", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "terminate other backends", sql: "select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid()", raw: ["ok", "sql_error"], judged: ["forbidden"] },
  // Issue item 2: every function call is seen, as a field too, and the revokes hold without the guard.
  { name: "thousands of advisory locks written as a field", sql: "select count((g::bigint).pg_advisory_lock) from generate_series(1, 5000) g", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "pg_sleep written as a field", sql: "select (5::float8).pg_sleep", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "advisory lock as alias.func on a row", sql: "select t.pg_advisory_lock from (select 42::bigint) t(x)", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "ts_stat runs SQL text", sql: "select * from ts_stat('select pg_advisory_lock(7)::text::tsvector')", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "query_to_xml runs SQL text", sql: "select query_to_xml('select pg_sleep(5)', true, false, '')", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "table_to_xml", sql: "select table_to_xml('cd.members', true, false, '')", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "database_to_xml", sql: "select database_to_xml(true, false, '')", raw: ["sql_error"], judged: ["forbidden"] },
  // Issue item 1: results bounded in bytes (5 MiB in 5 rows, under the row cap).
  // The byte budget or, on PGlite, the runner's memory limit (SANDBOX_MEMORY_MB) stops it, whichever is reached first.
  { name: "a few rows of megabytes each", sql: "select repeat('x', 1048576) from generate_series(1, 5)", raw: ["output_limit_exceeded", "resource_limit_exceeded"], judged: ["output_limit_exceeded", "resource_limit_exceeded"] },
  // Issue item 3: no window onto the server.
  { name: "query text of every backend", sql: "select pg_stat_get_backend_activity(s) from pg_stat_get_backend_idset() s", raw: ["sql_error"], judged: ["forbidden"] },
  { name: "list the databases", sql: "select datname from pg_database", raw: ["sql_error"], judged: ["sql_error"] },
  { name: "list the roles", sql: "select rolname from pg_roles", raw: ["sql_error"], judged: ["sql_error"] },
  { name: "read the server settings", sql: "select name, setting from pg_settings", raw: ["sql_error"], judged: ["sql_error"] },
  { name: "pg_stat_database", sql: "select datname from pg_stat_database", raw: ["sql_error"], judged: ["sql_error"] },
];

/** Run straight on the runner (no guard): each must be refused by a revoke, SQLSTATE 42501, on both backends. */
export const REVOKED_PROBES = [
  "select pg_sleep(0)", "select (0::float8).pg_sleep", "select pg_advisory_lock(1)", "select pg_try_advisory_xact_lock(1)",
  "select (1::bigint).pg_advisory_lock", "select pg_terminate_backend(1)", "select pg_cancel_backend(1)",
  "select query_to_xml('select 1', true, false, '')", "select cursor_to_xml('c', 1, false, false, '')",
  "select * from ts_stat('select 1')", "select pg_stat_get_backend_idset()", "select pg_blocking_pids(1)",
  "select pg_read_file('/etc/passwd')", "select query from pg_stat_activity", "select datname from pg_database",
  "select rolname from pg_roles", "select name from pg_settings", "select set_config('search_path', 'public', true)",
];
