/**
 * What both backends do the same way: the per-job transaction prologue, type
 * names, identifier checks and the shape of a failed outcome.
 */
import { HIDDEN_TEST_SCHEMA, OUTPUT_BYTE_LIMIT, type Cell, type Column, type FailVerdict, type RunLimits, type RunOutcome } from "./types";

const SAFE_IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema and role names are interpolated into SQL, so only plain lower-case identifiers are accepted. */
export function isSafeIdent(name: string): boolean {
  return SAFE_IDENT.test(name);
}

export function assertIdent(name: string, what: string): string {
  if (!isSafeIdent(name)) throw new Error(`${what} "${name}" must match ${SAFE_IDENT}`);
  return `"${name}"`;
}

/**
 * Session settings that decide how values are printed. Fixed per job so the
 * text of a result is the same on PostgreSQL and PGlite and whatever a
 * previous job tried (everything set here is LOCAL and dies with the rollback).
 */
export function outputSettings(schema: string): string {
  return [
    `set local search_path = ${assertIdent(schema, "schema")}`,
    "set local timezone = 'UTC'",
    "set local datestyle = 'ISO, MDY'",
    "set local intervalstyle = 'postgres'",
    "set local extra_float_digits = 1",
    "set local bytea_output = 'hex'",
  ].join(";\n");
}

/**
 * Hidden test copies of a pack (HIDDEN_TEST_SCHEMA, `<pack schema>__t<n>`) are readable by the
 * runner's hidden role only, and a run steps into it only for a query on such a schema: a query
 * of the main run cannot read hidden test data even if it got past the guard (src/judge/guard.ts
 * refuses naming them).
 */
export const isHiddenTestSchema = (schema: string): boolean => HIDDEN_TEST_SCHEMA.test(schema);

/** USAGE on a pack schema and SELECT on its tables, for the role that may read it. */
export function grantReadSql(schema: string, role: string): string {
  const s = assertIdent(schema, "schema");
  const r = assertIdent(role, "role");
  return `grant usage on schema ${s} to ${r}; grant select on all tables in schema ${s} to ${r}`;
}

/** The role that alone may read hidden test copies; the runner role may step into it (PostgreSQL: a member, NOINHERIT). */
export const hiddenRoleOf = (runnerRole: string): string => `${runnerRole}_hidden`;

/**
 * Bounds the disk (PostgreSQL) or Worker memory (PGlite keeps temp files in its in-memory file
 * system) one sort or hash may spill to; going over it is SQLSTATE 53400, resource_limit_exceeded.
 */
export const TEMP_FILE_LIMIT = "256MB";

/** How a job reaches its identity: PGlite's session is a superuser that steps down; PostgreSQL's is the runner role itself. */
export type JobSession = { superuser: string } | { login: string };

/**
 * The first lines of every job: read-only transaction, the identity the query runs as,
 * statement_timeout as a first line of defence, output settings. PGlite (`superuser`: the runner
 * role) sets the superuser-only temp_file_limit itself, then steps down to the runner role, or
 * to its hidden role for a hidden test copy. PostgreSQL (`login`: the runner role) has
 * temp_file_limit from ALTER ROLE (postgres-setup.ts) and could not set it; it steps into the
 * hidden role for a hidden test copy and back to itself otherwise (a job's queries share one
 * transaction).
 */
export function jobPrologue(schema: string, limits: RunLimits, session: JobSession): string {
  const hidden = isHiddenTestSchema(schema);
  const identity = "superuser" in session
    ? [`set local temp_file_limit = '${TEMP_FILE_LIMIT}'`, `set local role ${assertIdent(hidden ? hiddenRoleOf(session.superuser) : session.superuser, "role")}`]
    : [hidden ? `set local role ${assertIdent(hiddenRoleOf(session.login), "role")}` : "set local role none"];
  return [
    "begin transaction read only",
    ...identity,
    `set local statement_timeout = ${Math.max(1, Math.ceil(limits.timeoutMs))}`,
    outputSettings(schema),
  ].join(";\n");
}

/**
 * Built-ins the runner identity may not execute, revoked from PUBLIC in the
 * sandbox database (PostgreSQL) or the snapshot (PGlite). The guard refuses
 * them too, but these revokes are what holds when the guard is bypassed:
 * - set_config: inside PGlite the session user is a superuser, so
 *   set_config('role', ...) would lift a query out of the runner role within
 *   one statement; elsewhere it only lets a query undo our LOCAL settings;
 * - sleep, advisory locks, signals to other backends: all runners share one
 *   role, so these hold or stall shared resources and reach other users' jobs;
 * - functions that run SQL given as text (query_to_xml and family, ts_stat,
 *   ts_rewrite): they call whatever the text names, past any parse-time check;
 * - files and server state: pg_read_*, pg_ls_*, large objects, every
 *   pg_stat_* function (pg_stat_get_backend_activity returns the query text of
 *   every backend), lock and backend lists, settings, server start time.
 * Plus USAGE on plpgsql, so DO blocks cannot run procedural code.
 * pg_backend_pid, current_setting, pg_listening_channels and pg_lock_status (behind pg_locks;
 * a view calls functions as the querying user) stay: the runner
 * and the contract suite use them, and they show only the job's own session.
 */
export const REVOKED_FUNCTIONS = [
  "set_config", "pg_cancel_backend", "pg_terminate_backend", "pg_signal_backend", "ts_stat", "ts_rewrite",
  "pg_blocking_pids", "pg_safe_snapshot_blocking_pids", "pg_notify", "pg_current_logfile",
  "pg_postmaster_start_time", "pg_conf_load_time", "inet_server_addr", "inet_server_port", "inet_client_addr",
  "inet_client_port", "pg_show_all_settings", "pg_show_all_file_settings", "pg_hba_file_rules", "pg_ident_file_mappings",
  "pg_tablespace_location", "pg_prepared_xact", "pg_cursor", "pg_prepared_statement", "pg_database_size",
  "pg_tablespace_size", "pg_get_backend_memory_contexts", "pg_log_backend_memory_contexts", "pg_get_shmem_allocations",
  "pg_ls_dir", "pg_stat_file", "pg_reload_conf", "pg_rotate_logfile", "version",
];
/**
 * Families of the same, by name prefix. Matched with `^@` (starts with): the POSIX regex this was
 * before took PostgreSQL ~35 ms over pg_proc at every start.
 */
export const REVOKED_FUNCTION_PREFIXES = [
  "pg_sleep", "pg_advisory", "pg_try_advisory", "pg_read_", "pg_ls_", "pg_stat_", "pg_file_", "lo_", "pg_replication_",
  "pg_logical_", "pg_wal", "pg_control_", "query_to_xml", "cursor_to_xml", "table_to_xml", "schema_to_xml", "database_to_xml",
];
/**
 * Catalogs and views that show other databases, roles, sessions or server settings; SELECT is
 * revoked from PUBLIC in the sandbox database (ACLs of even the shared catalogs are per database).
 * What cannot be hidden: pg_class, pg_namespace, pg_proc, pg_type ... (the planner and every
 * client need them; they list the sandbox database's own objects only) and pg_locks (the contract
 * suite checks with it that no lock outlives a job; it shows lock tags and pids, not SQL).
 */
export const REVOKED_RELATIONS = [
  "pg_database", "pg_roles", "pg_user", "pg_group", "pg_auth_members", "pg_authid", "pg_shadow", "pg_settings",
  "pg_db_role_setting", "pg_tablespace", "pg_prepared_xacts", "pg_file_settings", "pg_hba_file_rules", "pg_config",
  "pg_backend_memory_contexts", "pg_shmem_allocations", "pg_shdescription", "pg_replication_origin_status",
  "pg_user_mappings", "pg_cursors", "pg_prepared_statements",
];

/** The identity submissions run as inside a PGlite runner (its session user is a superuser). */
export const PGLITE_RUNNER_ROLE = "huddle_runner";

/** What the first PGlite snapshot gets: the runner role and its hidden role; no CREATE/TEMP and none of the revoked functions for anyone but the superuser. */
export function pgliteRunnerSetupSql(role: string): string {
  return `
    create role ${assertIdent(role, "role")} nologin;
    create role ${assertIdent(hiddenRoleOf(role), "role")} nologin;
    revoke all on schema public from public;
    do $$ begin execute format('revoke all on database %I from public', current_database()); end $$;
    ${revokeFromPublicSql()}`;
}

/** Needs a superuser (the owner of pg_catalog). Every overload of each function is revoked. */
export function revokeFromPublicSql(): string {
  // Only what PUBLIC still holds is revoked: the end state is the same, and a start that finds the
  // revokes in place (every start after the first) writes nothing.
  const list = (names: string[]) => names.map((n) => `'${n}'`).join(", ");
  return `DO $$ DECLARE f regprocedure; r regclass; BEGIN
  FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace
      AND (proname IN (${list(REVOKED_FUNCTIONS)}) OR proname::text ^@ ANY (ARRAY[${list(REVOKED_FUNCTION_PREFIXES)}]))
      AND has_function_privilege('public', oid, 'EXECUTE') LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
  END LOOP;
  FOR r IN SELECT oid::regclass FROM pg_class WHERE relnamespace = 'pg_catalog'::regnamespace AND relkind IN ('r', 'v')
      AND (relname IN (${list(REVOKED_RELATIONS)}) OR relname ~ '^pg_stat')
      AND has_table_privilege('public', oid, 'SELECT') LOOP
    EXECUTE format('REVOKE SELECT ON %s FROM PUBLIC', r);
  END LOOP;
END $$;
REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC`;
}

const TYPE_NAMES: Record<number, string> = {
  16: "bool", 17: "bytea", 18: "char", 19: "name", 20: "int8", 21: "int2", 23: "int4", 25: "text",
  26: "oid", 114: "json", 142: "xml", 700: "float4", 701: "float8", 790: "money", 1042: "bpchar",
  1043: "varchar", 1082: "date", 1083: "time", 1114: "timestamp", 1184: "timestamptz",
  1186: "interval", 1266: "timetz", 1700: "numeric", 2950: "uuid", 3802: "jsonb", 869: "inet",
  650: "cidr", 1560: "bit", 1562: "varbit", 2249: "record", 705: "unknown", 2278: "void",
  1000: "bool[]", 1005: "int2[]", 1007: "int4[]", 1016: "int8[]", 1009: "text[]",
  1015: "varchar[]", 1231: "numeric[]", 1021: "float4[]", 1022: "float8[]", 1182: "date[]",
  1115: "timestamp[]", 1185: "timestamptz[]",
};

/** The name of a built-in type; types created by a dataset (enums ...) come back as `oid:<n>` and compare as text. */
export function typeName(oid: number): string {
  return TYPE_NAMES[oid] ?? `oid:${oid}`;
}

export function elapsedSince(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

export function failure(verdict: FailVerdict, error: string, start: number, extra: { sqlstate?: string; position?: number; hint?: string } = {}): RunOutcome {
  const out: RunOutcome = { ok: false, verdict, error, duration_ms: elapsedSince(start) };
  if (extra.sqlstate) out.sqlstate = extra.sqlstate;
  if (extra.hint) out.hint = extra.hint;
  if (extra.position !== undefined && Number.isFinite(extra.position)) out.position = extra.position;
  return out;
}

export { OUTPUT_BYTE_LIMIT };

/** The UTF-8 size of a row's cells (NULL counts nothing). */
export function rowBytes(row: Cell[]): number {
  let n = 0;
  for (const cell of row) if (cell !== null) n += Buffer.byteLength(cell, "utf8");
  return n;
}

/**
 * The outcome of a capped fetch: `rows` holds at most maxRows + 1 rows, and the fetch may have
 * stopped early once past the byte budget (`overBytes`), so the rows it did read are checked too.
 */
export function cappedOutcome(columns: Column[], rows: Cell[][], limits: RunLimits, start: number, overBytes = false): RunOutcome {
  const budget = limits.maxBytes ?? OUTPUT_BYTE_LIMIT;
  let bytes = 0;
  let fit = 0;
  while (fit < rows.length && fit < limits.maxRows && (bytes += rowBytes(rows[fit]!)) <= budget) fit++;
  const tooBig = overBytes || fit < Math.min(rows.length, limits.maxRows);
  if (!tooBig && rows.length <= limits.maxRows) return { ok: true, columns, rows, truncated: false, duration_ms: elapsedSince(start) };
  if (limits.truncate) return { ok: true, columns, rows: rows.slice(0, fit), truncated: true, duration_ms: elapsedSince(start) };
  if (tooBig) return failure("output_limit_exceeded", `the query returned more than ${budget} bytes`, start);
  return failure("output_limit_exceeded", `the query returned more than ${limits.maxRows} rows`, start);
}

/**
 * The outcome of an error raised by the submitted statement. SQLSTATE 57014 is query_canceled:
 * our statement_timeout or our pg_cancel_backend. Classes 53 (insufficient resources) and 54
 * (program limit exceeded) mean the SQL was valid but hit a sandbox limit, so they are not a
 * sql_error; the server's message names the limit and carries no data.
 */
export function sqlErrorOutcome(err: { message?: string; code?: string; position?: unknown; hint?: unknown }, start: number): RunOutcome {
  const position = err.position === undefined || err.position === null ? undefined : Number(err.position);
  if (err.code === "57014") return failure("time_limit_exceeded", "the query ran longer than the time limit", start);
  const verdict = /^5[34]/.test(err.code ?? "") ? "resource_limit_exceeded" : "sql_error";
  const hint = typeof err.hint === "string" && err.hint ? err.hint : undefined;
  return failure(verdict, err.message ?? String(err), start, { sqlstate: err.code, position, hint });
}

/** Schemas of a pack's hidden test copies: `<pack schema>__<suffix>` (pack schemas may not contain "__"). */
export function variantSchemaPattern(schema: string): string {
  return `${schema}\\_\\_%`;
}

/**
 * Admin SQL around loading one hidden test variant inside the pack's load transaction: the pack's
 * own data steps aside under a temporary name so the variant's dataset, setup and checks see the
 * pack's schema name; afterwards the variant takes its own name and the pack's data comes back.
 */
export function variantSql(schema: string, variant: string) {
  const s = assertIdent(schema, "schema");
  const aside = assertIdent(`${schema}__loading`.slice(0, 63), "schema");
  const v = assertIdent(variant, "variant schema");
  return {
    /** Drops every variant left from an earlier version of the pack. */
    dropOld: `do $$ declare n name; begin for n in select nspname from pg_namespace where nspname like '${variantSchemaPattern(schema)}' loop execute format('drop schema %I cascade', n); end loop; end $$`,
    before: `alter schema ${s} rename to ${aside}; create schema ${s}; set local search_path = ${s}`,
    after: `alter schema ${s} rename to ${v}; alter schema ${aside} rename to ${s}; set local search_path = ${s}`,
  };
}
