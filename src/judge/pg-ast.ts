/**
 * The real PostgreSQL parser (libpg_query compiled to WASM) and a few helpers
 * over its JSON parse tree. Used by the submission guard and the dataset
 * checker; neither is a security boundary on its own (DESIGN §7).
 */
import { loadModule, parseSync } from "@pgsql/parser";

export type AstNode = Record<string, unknown>;
export interface ParsedStatement {
  /** The node type, e.g. "SelectStmt", "CopyStmt". */
  type: string;
  node: AstNode;
}

let ready: Promise<void> | undefined;

/** Loads the WASM parser once per process. */
export function parserReady(): Promise<void> {
  ready ??= loadModule();
  return ready;
}

export class SqlParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SqlParseError";
  }
}

/** Parses SQL into its statements; call `parserReady()` first. Throws SqlParseError on a syntax error. */
export function parseStatements(sql: string): ParsedStatement[] {
  if (sql.trim() === "") return []; // the WASM parser fails on an empty string instead of returning no statements
  let result: { stmts?: { stmt: AstNode }[] };
  try {
    result = parseSync(sql) as typeof result;
  } catch (err) {
    throw new SqlParseError((err as Error).message);
  }
  return (result.stmts ?? []).map(({ stmt }) => {
    const type = Object.keys(stmt)[0]!;
    return { type, node: stmt[type] as AstNode };
  });
}

/** Visits every object in the tree depth-first with the key it sits under (node types are keys). */
export function walk(tree: unknown, visit: (key: string, value: AstNode) => void, key = ""): void {
  if (Array.isArray(tree)) {
    for (const item of tree) walk(item, visit, key);
  } else if (tree !== null && typeof tree === "object") {
    visit(key, tree as AstNode);
    for (const [k, v] of Object.entries(tree)) walk(v, visit, k);
  }
}

/** The String nodes of a qualified-name list, e.g. FuncCall.funcname -> ["pg_catalog", "pg_sleep"]. */
export function nameParts(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => (item as { String?: { sval?: string } }).String?.sval ?? "");
}

/** Every function called anywhere in the tree, by its unqualified lower-case name. */
export function calledFunctions(tree: unknown): string[] {
  const names: string[] = [];
  walk(tree, (key, value) => {
    // Lower-cased so a quoted "PG_SLEEP" is refused too (it would not exist, but refusing is harmless).
    if (key === "FuncCall") names.push((nameParts(value.funcname).at(-1) ?? "").toLowerCase());
  });
  return names;
}

/**
 * Functions that read or write server files, run dynamic SQL, sleep, signal
 * other sessions, change settings or reach outside the database. Matched on the
 * unqualified name so `pg_catalog.pg_read_file` is caught too.
 */
const DANGEROUS_EXACT = new Set([
  "set_config", "pg_reload_conf", "pg_rotate_logfile", "pg_promote", "pg_terminate_backend",
  "pg_cancel_backend", "pg_signal_backend", "pg_stat_file", "pg_current_logfile", "pg_notify",
  "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml",
  "cursor_to_xmlschema", "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
  "schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema", "database_to_xml",
  "database_to_xmlschema", "database_to_xml_and_xmlschema", "ts_stat", "pg_switch_wal",
  "pg_create_restore_point", "pg_backup_start", "pg_backup_stop", "pg_import_system_collations",
  "pg_export_snapshot", "pg_log_backend_memory_contexts", "nextval", "setval",
]);
const DANGEROUS_PREFIXES = [
  "pg_read_", "pg_ls_", "pg_file_", "pg_sleep", "lo_", "dblink", "pg_replication_", "pg_logical_",
  "pg_create_", "pg_drop_", "pg_advisory", "pg_try_advisory", "pg_wal_", "pg_stat_reset",
];

export function isDangerousFunction(name: string, allow: ReadonlySet<string> = new Set()): boolean {
  if (allow.has(name)) return false;
  return DANGEROUS_EXACT.has(name) || DANGEROUS_PREFIXES.some((p) => name.startsWith(p));
}

/** The first dangerous function called in the tree, if any. */
export function firstDangerousCall(tree: unknown, allow?: ReadonlySet<string>): string | undefined {
  return calledFunctions(tree).find((name) => isDangerousFunction(name, allow));
}
