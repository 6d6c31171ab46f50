/**
 * Turns a pack's dataset file into the steps a sandbox backend runs as admin.
 *
 * Every statement goes through the real PostgreSQL parser and is:
 * - skipped when it is session or ownership noise from pg_dump that must not
 *   run in a sandbox load (SET, GRANT/REVOKE, OWNER TO, CREATE SCHEMA of the
 *   pack's own schema, plpgsql extension lines, the search_path set_config,
 *   VACUUM, psql meta-commands such as \connect or \restrict);
 * - kept when it is a table/index/type/data statement that touches only the
 *   pack's schema (unqualified names land there: loads run with
 *   search_path = <schema>);
 * - refused otherwise (functions, DO, COPY TO/PROGRAM/file, other schemas,
 *   dangerous function calls), because datasets run with admin rights.
 */
import type { DatasetStep } from "../sandbox/types";
import { splitDump } from "./dump";
import { firstDangerousCall, nameParts, parserReady, parseStatements, SqlParseError, walk, type AstNode } from "./pg-ast";

export class DatasetError extends Error {
  constructor(message: string, readonly line: number) {
    super(`dataset line ${line}: ${message}`);
    this.name = "DatasetError";
  }
}

export interface PreparedDataset {
  steps: DatasetStep[];
  /** What was neutralised, for the import log. */
  skipped: { line: number; what: string }[];
  /** Rows in COPY blocks, for the import log. */
  copiedRows: number;
}

const KEPT = new Set([
  "CreateStmt", "IndexStmt", "AlterTableStmt", "CreateSeqStmt", "AlterSeqStmt", "ViewStmt",
  "CreateTableAsStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "SelectStmt", "VacuumStmt",
  "CommentStmt", "CreateEnumStmt", "AlterEnumStmt", "CompositeTypeStmt", "CreateDomainStmt",
  "DropStmt", "TruncateStmt", "CreateStatsStmt",
]);
const SKIPPED = new Set(["VariableSetStmt", "GrantStmt", "GrantRoleStmt", "AlterOwnerStmt", "AlterDefaultPrivilegesStmt"]);
/** Sequences are part of datasets (serial columns, pg_dump's setval lines). */
const DATASET_FUNCTIONS = new Set(["setval", "nextval"]);

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

export async function prepareDataset(text: string, schema: string): Promise<PreparedDataset> {
  await parserReady();
  const out: PreparedDataset = { steps: [], skipped: [], copiedRows: 0 };
  for (const step of splitDump(text)) {
    if (step.kind === "meta") {
      out.skipped.push({ line: step.line, what: `psql meta-command ${step.text.split(/\s/)[0]}` });
      continue;
    }
    const statements = parse(step.sql, step.line);
    if (step.kind === "copy") {
      out.steps.push({ kind: "copy", target: copyTarget(statements[0]!.node, schema, step.line), data: step.data, line: step.line });
      out.copiedRows += step.rows;
      continue;
    }
    // The splitter yields one statement per step; if the parser sees more, they disagree: refuse.
    if (statements.length !== 1) throw new DatasetError(`expected one statement, the parser found ${statements.length}`, step.line);
    const { type, node } = statements[0]!;
    const skip = skipReason(type, node, schema, step.line);
    if (skip) {
      out.skipped.push({ line: step.line, what: skip });
    } else {
      checkKept(type, node, schema, step.line);
      out.steps.push({ kind: "sql", sql: step.sql, line: step.line });
    }
  }
  return out;
}

function parse(sql: string, line: number) {
  try {
    return parseStatements(sql);
  } catch (err) {
    if (err instanceof SqlParseError) throw new DatasetError(err.message, line);
    throw err;
  }
}

function skipReason(type: string, node: AstNode, schema: string, line: number): string | undefined {
  if (type === "VariableSetStmt" && node.name === "standard_conforming_strings" && /"(off|false)"/i.test(JSON.stringify(node.args ?? []))) {
    // The splitter reads '...' the modern way (backslash is not an escape); old dumps that say otherwise are refused, not misread.
    throw new DatasetError("standard_conforming_strings = off is not supported; dump with a PostgreSQL 9.1 or later pg_dump", line);
  }
  if (SKIPPED.has(type)) return type === "VariableSetStmt" ? `SET ${String(node.name ?? "")}`.trim() : type.replace(/Stmt$/, "");
  if (type === "CreateSchemaStmt" && node.schemaname === schema && !node.schemaElts) return `CREATE SCHEMA ${schema} (created by the loader)`;
  if (type === "CreateExtensionStmt" && node.extname === "plpgsql") return "CREATE EXTENSION plpgsql";
  if (type === "CommentStmt" && node.objtype === "OBJECT_EXTENSION") return "COMMENT ON EXTENSION";
  if (type === "VacuumStmt" && node.is_vacuumcmd) return "VACUUM";
  if (type === "AlterTableStmt") {
    const cmds = (node.cmds as { AlterTableCmd?: { subtype?: string } }[] | undefined) ?? [];
    if (cmds.length > 0 && cmds.every((c) => c.AlterTableCmd?.subtype === "AT_ChangeOwner")) return "ALTER ... OWNER TO";
  }
  if (type === "SelectStmt" && isSearchPathReset(node)) return "set_config('search_path', ...)";
  return undefined;
}

/** pg_dump's `SELECT pg_catalog.set_config('search_path', '', false);` and nothing else. */
function isSearchPathReset(node: AstNode): boolean {
  const targets = (node.targetList as { ResTarget?: { val?: { FuncCall?: AstNode } } }[] | undefined) ?? [];
  if (node.fromClause || targets.length !== 1) return false;
  const call = targets[0]!.ResTarget?.val?.FuncCall;
  const firstArg = (call?.args as { A_Const?: { sval?: { sval?: string } } }[] | undefined)?.[0]?.A_Const?.sval?.sval;
  return nameParts(call?.funcname).at(-1) === "set_config" && firstArg === "search_path";
}

function checkKept(type: string, node: AstNode, schema: string, line: number): void {
  if (type === "CopyStmt") throw new DatasetError("only COPY ... FROM stdin is allowed in a dataset", line);
  if (!KEPT.has(type)) {
    const what = type === "CreateSchemaStmt" ? `CREATE SCHEMA ${String(node.schemaname)} (only the pack's schema "${schema}" may be used)` : type.replace(/Stmt$/, "");
    throw new DatasetError(`${what} is not allowed in a dataset`, line);
  }
  if (type === "DropStmt" && node.removeType === "OBJECT_SCHEMA") throw new DatasetError("DROP SCHEMA is not allowed in a dataset", line);
  const foreign = foreignSchema(type, node, schema);
  if (foreign) throw new DatasetError(`the dataset may only use schema "${schema}", found "${foreign}"`, line);
  const fn = firstDangerousCall(node, DATASET_FUNCTIONS);
  if (fn) throw new DatasetError(`calling ${fn}() is not allowed in a dataset`, line);
}

/** Keys under which the parse tree holds a table reference (RangeVar), wrapped or bare. */
const RELATION_KEYS = new Set(["RangeVar", "relation", "typevar", "rel"]);

/** A schema other than the pack's, named by a table reference or a qualified object name. */
function foreignSchema(type: string, node: AstNode, schema: string): string | undefined {
  let found: string | undefined;
  walk(node, (key, value) => {
    const s = RELATION_KEYS.has(key) ? value.schemaname : undefined;
    if (!found && typeof s === "string" && s !== schema) found = s;
  });
  if (found) return found;
  const names: string[][] = [];
  if (type === "DropStmt") {
    for (const obj of (node.objects as { List?: { items?: unknown } }[] | undefined) ?? []) names.push(nameParts(obj.List?.items));
  }
  if (type === "CreateEnumStmt") names.push(nameParts(node.typeName));
  if (type === "CreateDomainStmt") names.push(nameParts(node.domainname));
  return names.find((parts) => parts.length >= 2 && parts[0] !== schema)?.[0];
}

function copyTarget(node: AstNode, schema: string, line: number): string {
  if (node.is_program || node.filename || !node.is_from) throw new DatasetError("only COPY ... FROM stdin is allowed in a dataset", line);
  if (node.options) throw new DatasetError("COPY options are not supported; use pg_dump's text format", line);
  const rel = node.relation as { schemaname?: string; relname: string } | undefined;
  if (!rel) throw new DatasetError("COPY (query) is not allowed in a dataset", line);
  if (rel.schemaname && rel.schemaname !== schema) throw new DatasetError(`the dataset may only use schema "${schema}", found "${rel.schemaname}"`, line);
  const table = (rel.schemaname ? `${quoteIdent(rel.schemaname)}.` : "") + quoteIdent(rel.relname);
  const cols = nameParts(node.attlist).map(quoteIdent);
  return cols.length ? `${table} (${cols.join(", ")})` : table;
}
