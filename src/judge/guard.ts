/**
 * Pre-check of a submission with the real PostgreSQL parser: exactly one
 * read-only query calling only allowed functions (functions.ts), also when a
 * call is written as a field read (`(42::bigint).pg_advisory_lock`).
 *
 * Defence in depth only. The sandbox (separate identity, read-only
 * transaction always rolled back, wall-clock limit) is the boundary; this
 * check turns the obvious attacks into a clear `forbidden` verdict instead of
 * a permission error, and refuses what the parser shows to be more than a query.
 */
import { ALLOWED_FUNCTIONS, FUNCTION_LIKE_FIELD } from "./functions";
import { calledName, fieldNamesOf, parseStatements, parserReady, SqlParseError, walk } from "./pg-ast";

export type GuardResult =
  | { ok: true }
  | { ok: false; verdict: "forbidden"; reason: string }
  | { ok: false; verdict: "sql_error"; reason: string; sqlstate: string; position?: number };

/** Statement nodes whose presence anywhere (e.g. inside a WITH) means the query writes. */
const WRITING_NODES = new Set(["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"]);

const STATEMENT_NAMES: Record<string, string> = {
  VariableSetStmt: "SET/RESET", TransactionStmt: "transaction control", CopyStmt: "COPY", DoStmt: "DO",
  ListenStmt: "LISTEN", NotifyStmt: "NOTIFY", UnlistenStmt: "UNLISTEN", InsertStmt: "INSERT",
  UpdateStmt: "UPDATE", DeleteStmt: "DELETE", MergeStmt: "MERGE", ExplainStmt: "EXPLAIN",
  CallStmt: "CALL", PrepareStmt: "PREPARE", ExecuteStmt: "EXECUTE", LockStmt: "LOCK",
  CreateTableAsStmt: "CREATE TABLE AS", DiscardStmt: "DISCARD", VacuumStmt: "VACUUM/ANALYZE",
};

function describeStatement(type: string): string {
  if (STATEMENT_NAMES[type]) return STATEMENT_NAMES[type]!;
  if (/^(Create|Define)/.test(type)) return "CREATE";
  if (/^Drop/.test(type)) return "DROP";
  if (/^Alter/.test(type)) return "ALTER";
  return type.replace(/Stmt$/, "").toUpperCase();
}

/** Checks one submission; a syntax error is reported as `sql_error` (42601) like the server would. */
export async function guardQuery(sql: string): Promise<GuardResult> {
  await parserReady();
  let statements;
  try {
    statements = parseStatements(sql);
  } catch (err) {
    if (err instanceof SqlParseError) return { ok: false, verdict: "sql_error", reason: err.message, sqlstate: "42601", ...(err.position ? { position: err.position } : {}) };
    throw err;
  }
  if (statements.length === 0) return { ok: false, verdict: "forbidden", reason: "the query is empty" };
  if (statements.length > 1) {
    return { ok: false, verdict: "forbidden", reason: `only one statement is allowed, found ${statements.length}` };
  }
  const { type, node } = statements[0]!;
  if (type !== "SelectStmt") {
    return { ok: false, verdict: "forbidden", reason: `${describeStatement(type)} is not allowed: submit a single SELECT query` };
  }

  // One walk collects everything checked below (#14: the guard runs once per job, on a shared tree).
  let problem: string | undefined;
  const calls: string[] = [];
  const fields: string[] = [];
  walk(node, (key, value) => {
    if (WRITING_NODES.has(key)) problem ??= `a data-modifying ${describeStatement(key)} inside the query is not allowed`;
    else if (key === "intoClause") problem ??= "SELECT INTO creates a table and is not allowed";
    else if (key === "LockingClause") problem ??= "row locking (FOR UPDATE/SHARE) is not allowed";
    else if (key === "FuncCall") calls.push(calledName(value));
    else if (key === "ColumnRef" || key === "A_Indirection") fields.push(...fieldNamesOf(key, value));
  });
  if (problem) return { ok: false, verdict: "forbidden", reason: problem };

  const fn = calls.find((name) => !ALLOWED_FUNCTIONS.has(name));
  if (fn !== undefined) return { ok: false, verdict: "forbidden", reason: `calling ${fn}() is not allowed` };
  // `(42::bigint).pg_advisory_lock` and `t.pg_sleep` are calls written as field reads.
  const field = fields.find((name) => FUNCTION_LIKE_FIELD.test(name) && !ALLOWED_FUNCTIONS.has(name));
  if (field !== undefined) return { ok: false, verdict: "forbidden", reason: `calling ${field}() is not allowed (written as a field, .${field})` };
  return { ok: true };
}
