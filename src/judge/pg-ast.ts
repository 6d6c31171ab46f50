/**
 * The real PostgreSQL parser (libpg_query compiled to WASM) and a few helpers
 * over its JSON parse tree. Used by the submission guard and the dataset
 * checker; neither is a security boundary on its own (DESIGN §7).
 */
import PgQueryModule from "@pgsql/parser/wasm/libpg-query.js";
import wasmPath from "@pgsql/parser/wasm/libpg-query.wasm" with { type: "file" };

export type AstNode = Record<string, unknown>;
export interface ParsedStatement {
  /** The node type, e.g. "SelectStmt", "CopyStmt". */
  type: string;
  node: AstNode;
}

/** The part of the Emscripten module we call. */
interface PgQueryWasm {
  _malloc(size: number): number;
  _free(ptr: number): void;
  _wasm_parse_query(ptr: number): number;
  _wasm_parse_query_detailed(ptr: number): number;
  _wasm_free_detailed_result(ptr: number): void;
  _wasm_free_string(ptr: number): void;
  HEAPU8: Uint8Array;
  lengthBytesUTF8(text: string): number;
  stringToUTF8(text: string, ptr: number, size: number): void;
  UTF8ToString(ptr: number): string;
}

let wasm: PgQueryWasm | undefined;
let ready: Promise<void> | undefined;

/**
 * The parser costs ~25-30 MB of RSS (compiled code and its heap), more than
 * an idle server with PostgreSQL + Redis needs altogether (README: "On a small VM").
 * Unused this long, it is dropped and the next parse loads it again (tens of
 * ms); the first start's pack import drops it at once when done.
 */
const IDLE_RELEASE_MS = 30_000;
let lastUse = 0;
let releaseTimer: ReturnType<typeof setTimeout> | undefined;

function touch() {
  lastUse = performance.now();
  if (releaseTimer) return;
  const check = () => {
    const idle = performance.now() - lastUse;
    if (idle < IDLE_RELEASE_MS) {
      releaseTimer = setTimeout(check, IDLE_RELEASE_MS - idle);
      releaseTimer.unref?.();
    } else {
      releaseTimer = undefined;
      releaseParser();
    }
  };
  releaseTimer = setTimeout(check, IDLE_RELEASE_MS);
  releaseTimer.unref?.();
}

/**
 * Drops the parser once the current turn's work is done, unless something
 * asks for it before then (the first start's pack import calls this when it
 * ends). From a timer, so it never lands between a caller's `await
 * parserReady()` and its parse: every caller parses without yielding.
 */
export function releaseParserSoon(): void {
  const asked = performance.now();
  setTimeout(() => {
    if (lastUse <= asked) releaseParser();
  }, 0).unref?.();
}

/**
 * Drops the parser and the recent trees, then collects and shrinks the heap
 * so the memory goes back now: an idle process allocates nothing, so no
 * collection would come, and after a collection alone the freed pages stayed
 * (first start with PostgreSQL + Redis: 116 MB idle after the pack import
 * with a collection, ~95 MB with the shrink, as on later starts). The shrink
 * also drops compiled code, which the next requests compile again; this runs
 * when the judge has been idle, from timers only (see releaseParserSoon).
 */
function releaseParser(): void {
  if (!wasm) return;
  wasm = undefined;
  ready = undefined;
  recent.clear();
  Bun.gc(true);
  Bun.shrink();
}

/** Whether the parser is loaded now (for tests). */
export const parserLoaded = () => wasm !== undefined;

/**
 * Loads the WASM parser once per process. We start the package's Emscripten
 * module ourselves instead of importing "@pgsql/parser": its index reads the
 * .wasm from the absolute node_modules path at import time (so a compiled
 * binary aborts on another machine), and its parse treats any result that
 * contains "ERROR" (e.g. `select 'ERROR'`) as a syntax error. Here the .wasm
 * is a file import, embedded by `bun build --compile`.
 */
export function parserReady(): Promise<void> {
  touch();
  ready ??= (async () => {
    const wasmBinary = new Uint8Array(await Bun.file(wasmPath).arrayBuffer());
    wasm = (await PgQueryModule({ wasmBinary })) as PgQueryWasm;
  })();
  return ready;
}

export class SqlParseError extends Error {
  /** 1-based character position of the error in the query, as PostgreSQL reports it; undefined when unknown. */
  constructor(message: string, readonly position?: number) {
    super(message);
    this.name = "SqlParseError";
  }
}

/**
 * The 1-based character position libpg_query reports for a syntax error (its
 * plain parse gives only the message). Read from the detailed result, a
 * struct of 32-bit fields: has_error, message, funcname, filename, lineno,
 * cursorpos, ... (the wrapper of the pinned @pgsql/parser 17.5.0).
 */
function errorPosition(m: PgQueryWasm, input: number): number | undefined {
  const result = m._wasm_parse_query_detailed(input);
  if (!result) return undefined;
  try {
    const fields = new Int32Array(m.HEAPU8.buffer, result, 6);
    const cursor = fields[5]!;
    return fields[0] === 1 && cursor > 0 ? cursor : undefined;
  } finally {
    m._wasm_free_detailed_result(result);
  }
}

/** libpg_query's JSON parse tree, or SqlParseError with its message. */
function parseToJson(sql: string): { stmts?: { stmt: AstNode }[] } {
  if (!wasm) throw new Error("the SQL parser is not loaded: await parserReady() first");
  const size = wasm.lengthBytesUTF8(sql) + 1;
  const input = wasm._malloc(size);
  let output = 0;
  try {
    wasm.stringToUTF8(sql, input, size);
    output = wasm._wasm_parse_query(input);
    const text = wasm.UTF8ToString(output);
    // Errors come back as plain messages; the position needs a second, detailed parse.
    if (!text.startsWith("{")) throw new SqlParseError(text, errorPosition(wasm, input));
    return JSON.parse(text);
  } finally {
    wasm._free(input);
    if (output) wasm._wasm_free_string(output);
  }
}

/**
 * Recent parses of short texts: judging one submission reads its tree several times (the guard, the
 * hidden-schema check, one retarget per hidden test), and each parse is a WASM call plus a JSON.parse.
 */
const recent = new Map<string, ParsedStatement[]>();
const RECENT_MAX = 128;
const RECENT_MAX_CHARS = 20_000;

/**
 * Parses SQL into its statements; call `parserReady()` first. Throws SqlParseError on a syntax error.
 * The trees of short texts are shared between callers: read them, never change them.
 */
export function parseStatements(sql: string): ParsedStatement[] {
  if (sql.trim() === "") return []; // the parser answers an empty string with an error instead of no statements
  const hit = recent.get(sql);
  if (hit) return hit;
  const parsed = (parseToJson(sql).stmts ?? []).map(({ stmt }) => {
    const type = Object.keys(stmt)[0]!;
    return { type, node: stmt[type] as AstNode };
  });
  if (sql.length <= RECENT_MAX_CHARS) {
    if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
    recent.set(sql, parsed);
  }
  return parsed;
}

/** Visits every object in the tree depth-first with the key it sits under (node types are keys). */
export function walk(tree: unknown, visit: (key: string, value: AstNode) => void, key = ""): void {
  if (Array.isArray(tree)) {
    for (const item of tree) walk(item, visit, key);
  } else if (tree !== null && typeof tree === "object") {
    visit(key, tree as AstNode);
    // for-in instead of Object.entries: no array of pairs per node (the guard walks every submission).
    for (const k in tree) {
      const v = (tree as Record<string, unknown>)[k];
      if (v !== null && typeof v === "object") walk(v, visit, k);
    }
  }
}

/** The String nodes of a qualified-name list, e.g. FuncCall.funcname -> ["pg_catalog", "pg_sleep"]. */
export function nameParts(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => (item as { String?: { sval?: string } }).String?.sval ?? "");
}

/** A FuncCall node's function, by its unqualified lower-case name. */
export function calledName(funcCall: AstNode): string {
  // Lower-cased so a quoted "PG_SLEEP" is refused too (it would not exist, but refusing is harmless).
  return (nameParts(funcCall.funcname).at(-1) ?? "").toLowerCase();
}

/** Every function called anywhere in the tree, by its unqualified lower-case name. */
export function calledFunctions(tree: unknown): string[] {
  const names: string[] = [];
  walk(tree, (key, value) => {
    if (key === "FuncCall") names.push(calledName(value));
  });
  return names;
}

/**
 * The fields a node reads with dot syntax: the last name of `a.b` / `a.b.c` (ColumnRef)
 * and each name in `(expr).f` (A_Indirection). PostgreSQL calls a one-argument
 * function `f(a)` when `a` has no column `f`, so these may be calls too.
 */
export function fieldNamesOf(key: string, node: AstNode): string[] {
  if (key === "ColumnRef") {
    const parts = nameParts(node.fields);
    return parts.length >= 2 && parts.at(-1) ? [parts.at(-1)!.toLowerCase()] : [];
  }
  if (key === "A_Indirection") return nameParts(node.indirection).filter(Boolean).map((n) => n.toLowerCase());
  return [];
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

function isDangerousFunction(name: string, allow: ReadonlySet<string> = new Set()): boolean {
  if (allow.has(name)) return false;
  return DANGEROUS_EXACT.has(name) || DANGEROUS_PREFIXES.some((p) => name.startsWith(p));
}

/** The first dangerous function called in the tree, if any. */
export function firstDangerousCall(tree: unknown, allow?: ReadonlySet<string>): string | undefined {
  return calledFunctions(tree).find((name) => isDangerousFunction(name, allow));
}
